"""A gradebook from the book's own checkers: ``make grade SUBMISSIONS=DIR``.

``DIR`` holds one folder per student (``DIR/alice/01_least_squares.ipynb``, ...) or one notebook
per student (``DIR/alice.ipynb``). For every submitted notebook the grader

1. finds the chapter (the notebook metadata ``jaxbook.chapter`` written by ``make assignments``,
   else the file name ``NN_...``, else the exercise labels in the answer cells);
2. takes the student's *answer cells* only, matched by exercise id (cell metadata
   ``jaxbook.exercise``, else the cell id ``answer-LABEL``, else the first line
   ``# Exercise LABEL:``), so deleted, moved or renamed cells are handled; code cells the student
   added right after an answer cell belong to it;
3. reads each answer statically (``ast``): an answer that does not parse is an error, and one that
   patches, rebinds or replaces a checker, ``Feedback`` or a module (attribute assignment on a
   module, ``setattr``, ``sys.modules``, ``builtins``, ``gc``, ``ctypes``, frames, code objects,
   ``exec``/``eval``, IPython hooks, threads ...) gets no credit for that exercise and is not run;
4. runs the *instructor* notebook with the student's answers in place of the solutions, in a fresh
   kernel, in a sandbox (bubblewrap: the file system read-only except the submission's own
   working folder, a private ``/tmp``, no network, its own process namespace, the submissions and
   the grader's output hidden), with a per-cell time limit for the student's cells and the checks
   and a memory limit on the kernel's process tree (a watchdog on its resident memory: an address
   space limit would break XLA);
5. judges each exercise with the instructor's check expression, evaluated by the grader's own
   code against the pristine checker modules; the verdict goes to a file named at random for that
   check, signed with a key that exists only in that cell, and is read by the grader before any
   student code runs again. Printed text is never parsed. Before and after each check, a
   fingerprint of the checkers, ``Feedback``, the ``jaxbook`` modules and the modules they use
   (``numpy``, ``jax``, ``builtins``, ``json``, ``hmac`` ...) and of the interpreter's hooks is
   compared with the one taken before the first answer ran: a change means no credit for that
   exercise and every later one.

A timeout, a kernel killed for memory or a kernel that dies costs only that exercise: the kernel is
restarted and the notebook re-run without it, for the exercises not graded yet.

Results in ``--out`` (default ``_build/grade``): ``gradebook.csv`` (one row per student; per
exercise a verdict: correct, not yet, error, timeout or missing, and the message) and
``feedback/STUDENT.md``.

Limits: the sandbox needs ``bwrap`` (Debian package ``bubblewrap``; ``make grade`` installs it when
run as root); ``--no-sandbox`` runs without it, for a trusted class only. Checks run in the
student's own process: the static rules and the fingerprint stop redefinition, patching and
replacement of the checkers, and forged output, but an answer written specifically to attack this
(public) grader from inside the interpreter cannot be excluded in principle; read the notebooks of
the students it flags.
"""

from __future__ import annotations

import argparse
import ast
import concurrent.futures
import csv
import hmac
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assignments

ROOT = Path(__file__).resolve().parents[1]
STATUSES = ("correct", "not yet", "error", "timeout", "missing")
HEADER = re.compile(r"^#\s*Exercise\s+(\S+?):", re.MULTILINE)

# Constructs an answer may not use: with them it could reach the grader, the checkers or the
# interpreter's machinery. An answer that uses one gets no credit for its exercise and is not run.
FORBIDDEN_NAMES = {
    "setattr",
    "delattr",
    "exec",
    "eval",
    "compile",
    "__import__",
    "globals",
    "locals",
    "vars",
    "get_ipython",
    "__builtins__",
    "breakpoint",
    "memoryview",
}
FORBIDDEN_MODULES = {
    "builtins",
    "sys",
    "gc",
    "ctypes",
    "inspect",
    "importlib",
    "threading",
    "_thread",
    "multiprocessing",
    "signal",
    "atexit",
    "IPython",
    "ipykernel",
    "unittest",
    "types",
    "hmac",
    "hashlib",
    "json",
    "jaxbook",
    "subprocess",
    "socket",
    "asyncio",
    "concurrent",
    "traceback",
    "code",
    "codeop",
    "pickle",
    "marshal",
}
FORBIDDEN_ATTRIBUTES = {
    "__code__",
    "__globals__",
    "__closure__",
    "__defaults__",
    "__kwdefaults__",
    "__dict__",
    "__class__",
    "__bases__",
    "__mro__",
    "__subclasses__",
    "__wrapped__",
    "__setattr__",
    "__delattr__",
    "__getattribute__",
    "cell_contents",
    "f_back",
    "f_locals",
    "f_globals",
    "f_builtins",
    "gi_frame",
    "tb_frame",
    "_getframe",
    "modules",
    "settrace",
    "setprofile",
    "addaudithook",
    "meta_path",
    "path_hooks",
    "__import__",
    "user_ns",
    "events",
    "register",
    "input_transformers_post",
    "ast_transformers",
    "__builtins__",
}


@dataclass
class Chapter:
    """An instructor notebook, as the grader needs it."""

    id: str
    name: str
    nb: nbformat.NotebookNode
    exercises: list[dict]
    aliases: dict[str, str] = field(default_factory=dict)  # name -> module it may stand for
    chapter_sources: set[str] = field(default_factory=set)
    check_inputs: set[str] = field(default_factory=set)  # the data the checks are given

    @property
    def labels(self) -> list[str]:
        return [ex["label"] for ex in self.exercises]


def _imports(tree: ast.AST) -> dict[str, str]:
    found = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for a in node.names:
                found[a.asname or a.name.split(".")[0]] = a.name if a.asname else a.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                found[a.asname or a.name] = f"{node.module}.{a.name}"
                found.setdefault(f"{a.asname or a.name}@from", node.module)
    return found


def _parse(source: str) -> ast.Module:
    return ast.parse(assignments._strip_magics(source))


def load_chapter(path: Path) -> Chapter:
    nb = nbformat.read(path, as_version=4)
    chapter = Chapter(assignments.chapter_id(nb), path.stem, nb, assignments.exercises(nb))
    inside = {i for ex in chapter.exercises for i in ex["solution"]}
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and i not in inside:
            chapter.chapter_sources.add(cell.source.strip())
            for alias, module in _imports(_parse(cell.source)).items():
                if not alias.endswith("@from"):
                    chapter.aliases[alias] = module
    defined = set().union(*(ex["defines"] for ex in chapter.exercises))
    for ex in chapter.exercises:
        tree = _parse(nb.cells[ex["check"]].source)
        chapter.check_inputs |= {
            n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
        }
    chapter.check_inputs -= defined | set(chapter.aliases)
    return chapter


def _top_level(tree: ast.AST):
    """The nodes of a cell outside any function, lambda or class body (where names are the notebook's)."""
    todo = [tree]
    while todo:
        node = todo.pop()
        yield node
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                todo.append(child)
            elif not isinstance(child, ast.Lambda):
                yield child  # its own name is bound at the top level


def load_chapters(folder: Path) -> dict[str, Chapter]:
    return {c.id: c for c in (load_chapter(p) for p in sorted(folder.glob("*.ipynb")))}


# ---------------------------------------------------------------------------------------------
# Reading a submission


def read_submission(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook, or ``None`` and why it cannot be read (empty, not JSON, not a notebook)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return None, f"the file cannot be read ({type(exc).__name__})"
    if not text.strip():
        return None, "the file is empty"
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises JSON, validation and version errors of many kinds
        return None, f"the file is not a valid notebook ({type(exc).__name__})"
    if not isinstance(nb.get("cells"), list):
        return None, "the file is not a valid notebook (no cells)"
    return nb, ""


def identify_chapter(path: Path, nb: nbformat.NotebookNode | None, chapters: dict[str, Chapter]) -> Chapter | None:
    if nb is not None:
        meta = nb.get("metadata", {}).get("jaxbook", {})
        if isinstance(meta, dict) and meta.get("chapter") in chapters:
            return chapters[meta["chapter"]]
    number = re.match(r"(\d\d)[_-]", path.name)
    if number and f"ch{number.group(1)}" in chapters:
        return chapters[f"ch{number.group(1)}"]
    if nb is not None:
        for cell in nb.cells:
            label = _label_of(cell)
            if label and label.split("-")[0] in chapters:
                return chapters[label.split("-")[0]]
    return None


def _label_of(cell) -> str | None:
    if cell.get("cell_type") != "code":
        return None
    meta = cell.get("metadata", {}).get("jaxbook", {})
    if isinstance(meta, dict) and isinstance(meta.get("exercise"), str):
        return meta["exercise"]
    cell_id = cell.get("id") or ""
    if cell_id.startswith("answer-"):
        return cell_id[len("answer-") :]
    found = HEADER.search(cell.get("source", "") if isinstance(cell.get("source"), str) else "")
    return found.group(1) if found else None


def find_answers(nb: nbformat.NotebookNode, chapter: Chapter) -> dict[str, list[str]]:
    """The student's code for each exercise: its answer cell and the code cells added after it."""
    answers: dict[str, list[str]] = {}
    by_id = {assignments.answer_cell_id(label): label for label in chapter.labels}
    current = None
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        label = _label_of(cell)
        label = by_id.get(cell.get("id"), label) if label not in chapter.labels else label
        source = cell.source if isinstance(cell.source, str) else ""
        if label in chapter.labels:
            current = label
            answers.setdefault(label, []).append(source)
        elif source.strip() in chapter.chapter_sources or label is not None:
            current = None
        elif current is not None and source.strip():
            answers[current].append(source)
    return answers


def static_problem(sources: list[str], chapter: Chapter) -> str | None:
    """Why an answer gets no credit without running it (a syntax error or tampering), else ``None``."""
    trees = []
    for source in sources:
        try:
            trees.append(_parse(source))
        except SyntaxError as exc:
            return f"error: SyntaxError: {exc.msg} (line {exc.lineno})"
    protected = set(chapter.aliases) | chapter.check_inputs | {"Feedback", "compare_arrays", "compare_functions"}
    imported = set()
    for tree in trees:
        imported |= {a for a in _imports(tree) if not a.endswith("@from")}
    modules = protected | imported
    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in FORBIDDEN_NAMES:
                return f"no credit: the answer uses {node.id}"
            if isinstance(node, ast.Attribute) and node.attr in FORBIDDEN_ATTRIBUTES:
                return f"no credit: the answer uses .{node.attr}"
            if isinstance(node, (ast.Global, ast.Nonlocal)) and set(node.names) & protected:
                return f"no credit: the answer declares {sorted(set(node.names) & protected)} global"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                for name in names:
                    if name.split(".")[0] in FORBIDDEN_MODULES:
                        return f"no credit: the answer imports {name}"
            targets = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
                targets = [node.target]
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
            elif isinstance(node, ast.NamedExpr):
                targets = [node.target]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, (ast.Attribute, ast.Subscript)):
                        root = sub
                        while isinstance(root, (ast.Attribute, ast.Subscript)):
                            root = root.value
                        if isinstance(root, ast.Name) and root.id in modules:
                            return f"no credit: the answer changes {ast.unparse(sub)}"
        for node in _top_level(tree):
            targets = []
            if isinstance(node, (ast.Assign, ast.Delete)):
                targets = node.targets
            elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor, ast.NamedExpr)):
                targets = [node.target]
            elif isinstance(node, (ast.With, ast.AsyncWith)):
                targets = [item.optional_vars for item in node.items if item.optional_vars is not None]
            for target in targets:
                for sub in ast.walk(target):
                    if isinstance(sub, ast.Name) and sub.id in protected:
                        return f"no credit: the answer rebinds {sub.id}, which the checks use"
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.name in protected:
                return f"no credit: the answer redefines {node.name}, which the checks use"
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for a in node.names:
                    if (a.asname or a.name.split(".")[0]) in protected:
                        return f"no credit: the answer rebinds {a.asname or a.name}, which the checks use"
    return None


# ---------------------------------------------------------------------------------------------
# The grader's code that runs in the kernel. It keeps nothing in the student's namespace.

FINGERPRINT = r"""
import sys as _s
def _contents(_c):
    try:
        return id(_c.cell_contents)
    except ValueError:
        return None
def _fingerprint(_names):
    import types
    items = []
    for _n in _names:
        _m = _s.modules.get(_n)
        items.append(("module", _n, id(_m)))
        if _m is None:
            continue
        _own = _n.startswith("jaxbook")
        for _k, _v in sorted(vars(_m).items()):
            if _k.startswith("__") or (_k.startswith("_") and not _own) or (_n == "builtins" and _k == "input"):
                continue  # ipykernel binds builtins.input anew for every cell
            items.append((_n, _k, id(_v)))
            if not _own:
                continue
            _fs = [_v]
            if isinstance(_v, type):
                _fs = []
                for _a, _b in sorted(vars(_v).items()):
                    items.append((_n, _k, _a, id(_b)))
                    _fs.append(getattr(_b, "__func__", _b))
            for _f in _fs:
                _f = getattr(_f, "__wrapped__", _f)
                if isinstance(_f, types.FunctionType):
                    items.append((_n, _k, id(_f.__code__), id(_f.__defaults__), id(_f.__kwdefaults__),
                                  id(_f.__globals__), tuple(_contents(_c) for _c in (_f.__closure__ or ()))))
    _ip = _s.modules["IPython"].get_ipython()
    items.append(("hooks", id(_s.gettrace()), id(_s.getprofile()), tuple(map(id, _s.meta_path)),
                  tuple(map(id, _s.path_hooks)),
                  tuple((k, tuple(map(id, v))) for k, v in sorted(_ip.events.callbacks.items())),
                  tuple(map(id, _ip.input_transformers_post)), tuple(map(id, _ip.ast_transformers))))
    return _s.modules["hashlib"].sha256(repr(items).encode()).hexdigest()
"""

SNAPSHOT = (
    FINGERPRINT
    + r"""
def _snapshot(KEY, PATH, BASE):
    import importlib
    for _n in BASE:
        try:
            importlib.import_module(_n)
        except ImportError:
            pass
    names = sorted(n for n in list(_s.modules) if n == "jaxbook" or n.startswith("jaxbook.") or n in BASE)
    payload = _s.modules["json"].dumps({"names": names, "fingerprint": _fingerprint(names)})
    mac = _s.modules["hmac"].new(bytes.fromhex(KEY), payload.encode(), "sha256").hexdigest()
    with open(PATH, "w") as f:
        f.write(_s.modules["json"].dumps({"payload": payload, "mac": mac}))
"""
)

CHECK = (
    FINGERPRINT
    + r"""
def _check(USER, KEY, PATH, LABEL, SOURCE, ALIASES, NAMES):
    import ast
    before = _fingerprint(NAMES)
    ns = dict(USER)
    for alias, module in ALIASES.items():
        if module in _s.modules:
            ns[alias] = _s.modules[module]
    result = {"label": LABEL, "before": before}
    try:
        tree = ast.parse(SOURCE)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, "<check>", "exec"), ns)
        value = eval(compile(ast.Expression(last.value), "<check>", "eval"), ns) if last else None
        feedback = _s.modules["jaxbook.checks._core"].Feedback
        result["feedback"] = type(value) is feedback
        result["ok"] = type(value) is feedback and value.ok is True
        result["message"] = str(value.message)[:400] if type(value) is feedback else repr(type(value))[:100]
    except BaseException as exc:
        result["raised"] = f"{type(exc).__name__}: {str(exc)[:300]}"
    result["after"] = _fingerprint(NAMES)
    payload = _s.modules["json"].dumps(result)
    mac = _s.modules["hmac"].new(bytes.fromhex(KEY), payload.encode(), "sha256").hexdigest()
    with open(PATH, "w") as f:
        f.write(_s.modules["json"].dumps({"payload": payload, "mac": mac}))
"""
)

BASE_MODULES = [
    "builtins",
    "numpy",
    "numpy.linalg",
    "jax",
    "jax.numpy",
    "jax.numpy.linalg",
    "jax.random",
    "json",
    "hmac",
    "hashlib",
    "math",
    "functools",
    "dataclasses",
    "jaxbook.checks._core",
]


def _grader_cell(code: str, call: str) -> nbformat.NotebookNode:
    return nbformat.v4.new_code_cell(f"exec({(code + call)!r}, {{'USER': globals(), '__name__': '_grader'}})")


@dataclass
class Step:
    kind: str  # "chapter", "snapshot", "answer", "check"
    label: str | None
    cell: nbformat.NotebookNode
    key: str = ""
    path: str = ""
    call: str = ""


def plan(
    chapter: Chapter, answers: dict[str, list[str]], pending: set[str], work: Path, names: list[str] | None
) -> list[Step]:
    """The cells to run: the instructor's, with the student's answers and the grader's checks."""
    steps: list[Step] = []
    solution_at = {ex["solution"][0]: ex for ex in chapter.exercises}
    skip = {i for ex in chapter.exercises for i in ex["solution"][1:]}
    checks = {ex["check"]: ex for ex in chapter.exercises}
    snapped = False
    for i, cell in enumerate(chapter.nb.cells):
        if cell.cell_type != "code" or i in skip:
            continue
        if i in solution_at:
            label = solution_at[i]["label"]
            if label in pending:
                if not snapped:
                    key, path = secrets.token_hex(32), str(work / f".{secrets.token_hex(16)}")
                    call = f"\n_snapshot({key!r}, {path!r}, {BASE_MODULES!r})"
                    steps.append(Step("snapshot", None, _grader_cell(SNAPSHOT, call), key, path))
                    snapped = True
                for source in answers[label]:
                    steps.append(Step("answer", label, nbformat.v4.new_code_cell(source)))
            continue
        if i in checks:
            label = checks[i]["label"]
            if label in pending:
                key, path = secrets.token_hex(32), str(work / f".{secrets.token_hex(16)}")
                aliases = {a: m for a, m in chapter.aliases.items()}
                call = f"\n_check(USER, {key!r}, {path!r}, {label!r}, {cell.source!r}, {aliases!r}, __JBG_NAMES__)"
                steps.append(Step("check", label, nbformat.v4.new_code_cell(""), key, path, call))
            continue
        steps.append(Step("chapter", None, nbformat.v4.new_code_cell(cell.source)))
    return steps


def _read_signed(step: Step) -> dict | None:
    try:
        with open(step.path) as f:
            record = json.load(f)
        os.unlink(step.path)
        payload = record["payload"]
        expected = hmac.new(bytes.fromhex(step.key), payload.encode(), "sha256").hexdigest()
        if not hmac.compare_digest(expected, record["mac"]):
            return None
        return json.loads(payload)
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ---------------------------------------------------------------------------------------------
# Running one notebook in a sandboxed kernel


def sandbox_command(work: Path, hidden: list[Path]) -> list[str]:
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise RuntimeError("bwrap is not installed (Debian: apt-get install bubblewrap); --no-sandbox runs without it")
    cmd = [bwrap, "--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--tmpfs", "/tmp"]
    # A fresh /tmp hides what lives there; a clone or a virtual environment under /tmp must stay
    # visible (read-only) for the kernel to start.
    needed = {Path(sys.prefix).resolve(), Path(__file__).resolve().parent.parent}
    kept = sorted(path for path in needed if path.is_relative_to("/tmp"))
    for path in kept:
        cmd += ["--ro-bind", str(path), str(path)]
    for folder in hidden:
        visible = not folder.resolve().is_relative_to("/tmp") or any(folder.resolve().is_relative_to(k) for k in kept)
        if folder.exists() and visible:
            cmd += ["--tmpfs", str(folder), "--remount-ro", str(folder)]  # hidden, and not writable either
    # the kernel cannot see its parent from its own process namespace: no parent poller
    cmd += [
        "--unsetenv",
        "JPY_PARENT_PID",
        "--bind",
        str(work),
        str(work),
        "--chdir",
        str(work),
        "--unshare-net",
        "--unshare-pid",
        "--unshare-ipc",
        "--unshare-uts",
        "--die-with-parent",
    ]
    return cmd


def _kernel_env(work: Path) -> dict[str, str]:
    env = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "TZ") if k in os.environ}
    env.update(
        HOME=str(work),
        MPLCONFIGDIR=str(work / ".matplotlib"),
        IPYTHONDIR=str(work / ".ipython"),
        JAX_PLATFORMS="cpu",
        PYTHONHASHSEED="0",
        PYTHONDONTWRITEBYTECODE="1",
        PYDEVD_DISABLE_FILE_VALIDATION="1",
        XLA_FLAGS="--xla_cpu_multi_thread_eigen=false",
        OMP_NUM_THREADS="1",
        JAXBOOK_GRADING="1",
    )
    return env


def _tree_rss(pid: int) -> int:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0
    total = 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def _kill_tree(pid: int) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [*root.children(recursive=True), root]
    except psutil.Error:
        return
    for p in procs:
        try:
            p.kill()
        except psutil.Error:
            pass


def run_once(chapter: Chapter, answers, pending: set[str], work: Path, opts: dict) -> tuple[dict, str | None]:
    """Run the plan once. Returns the verdicts reached and the label of a fatal exercise, if any."""
    from jupyter_client.manager import AsyncKernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    sandbox = None if opts["no_sandbox"] else sandbox_command(work, [Path(p) for p in opts["hidden"]])

    class Manager(AsyncKernelManager):
        def format_kernel_cmd(self, extra_arguments=None):
            cmd = [sys.executable, "-m", "ipykernel_launcher", "-f", self.connection_file]
            return [*sandbox, *cmd] if sandbox else cmd

    verdicts: dict[str, tuple[str, str]] = {}
    names = None
    steps = plan(chapter, answers, pending, work, names)
    km = Manager(transport="ipc", ip=str(work / "k"), connection_file=str(work / "kernel.json"))
    km.kernel_name = "python3"
    client = NotebookClient(
        nbformat.v4.new_notebook(cells=[s.cell for s in steps]),
        km=km,
        timeout=opts["chapter_timeout"],
        kernel_name="python3",
        allow_errors=False,
        interrupt_on_timeout=False,
        record_timing=False,
        resources={"metadata": {"path": str(work)}},
        startup_timeout=300,
    )
    state = {"memory": False, "stop": False}

    def watchdog():
        while not state["stop"]:
            process = getattr(km.provisioner, "process", None) if km.provisioner else None
            if process is not None and _tree_rss(process.pid) > opts["memory"]:
                state["memory"] = True
                _kill_tree(process.pid)
                return
            time.sleep(0.05)

    failed_answer: str | None = None
    current = None
    fatal = None
    with client.setup_kernel(env=_kernel_env(work)):
        guard = threading.Thread(target=watchdog, daemon=True)
        guard.start()
        try:
            for index, step in enumerate(steps):
                current = step
                if step.kind == "answer" and (step.label == failed_answer or step.label in verdicts):
                    continue
                if step.kind == "check" and step.label in verdicts:
                    continue
                client.timeout = opts["cell_timeout"] if step.kind in ("answer", "check") else opts["chapter_timeout"]
                if step.kind == "check":
                    step.cell = _grader_cell(CHECK, step.call.replace("__JBG_NAMES__", repr(names)))
                try:
                    client.execute_cell(step.cell, index)
                except CellExecutionError as exc:
                    if step.kind == "answer":
                        verdicts[step.label] = ("error", f"the answer raised {exc.ename}: {exc.evalue}"[:300])
                        failed_answer = step.label
                        continue
                    if step.kind == "chapter":
                        continue  # the chapter's own cell failed, e.g. after a broken answer: the checks will say
                    verdicts.setdefault(step.label or "", ("error", f"the grader's cell raised {exc.ename}"))
                    continue
                if step.kind == "snapshot":
                    record = _read_signed(step)
                    if record is None:
                        raise RuntimeError("the grader's snapshot did not report")
                    names, reference = record["names"], record["fingerprint"]
                elif step.kind == "check":
                    record = _read_signed(step)
                    if record is None or record.get("label") != step.label:
                        verdicts[step.label] = ("error", "no credit: the check could not report its verdict")
                    elif record["before"] != reference or record["after"] != reference:
                        verdicts[step.label] = (
                            "error",
                            "no credit: the checkers or the modules they use were changed at run time",
                        )
                    elif "raised" in record:
                        verdicts[step.label] = ("error", f"the check raised {record['raised']}")
                    elif not record["feedback"]:
                        verdicts[step.label] = ("error", f"the check returned {record['message']}, not a Feedback")
                    else:
                        verdicts[step.label] = ("correct" if record["ok"] else "not yet", record["message"])
        except CellTimeoutError:
            fatal = (current.label, "timeout", f"a cell ran longer than {opts['cell_timeout']:g} s")
        except (DeadKernelError, RuntimeError) as exc:
            if state["memory"]:
                fatal = (
                    current.label,
                    "error",
                    f"the kernel used more than {opts['memory'] / 2**30:g} GiB of memory and was stopped",
                )
            else:
                fatal = (current.label, "error", f"the kernel died ({type(exc).__name__}: {str(exc)[:120]})")
        finally:
            state["stop"] = True
            if state["memory"] and fatal is None:
                fatal = (
                    current.label,
                    "error",
                    f"the kernel used more than {opts['memory'] / 2**30:g} GiB of memory and was stopped",
                )
    if fatal:
        label, status, message = fatal
        if label is None or current.kind == "chapter":
            # a chapter cell failed fatally: blame the last answer that ran before it
            ran = [s.label for s in steps[: steps.index(current)] if s.kind == "answer" and s.label not in verdicts]
            label = ran[-1] if ran else None
        if label is None:
            return verdicts, "!" + message
        verdicts[label] = (status, message)
        return verdicts, label
    return verdicts, None


def grade_notebook(
    path: Path, chapter: Chapter, nb: nbformat.NotebookNode, work: Path, opts: dict
) -> dict[str, tuple[str, str]]:
    answers = find_answers(nb, chapter)
    verdicts: dict[str, tuple[str, str]] = {}
    for label in chapter.labels:
        if label not in answers:
            verdicts[label] = ("missing", "no answer cell for this exercise")
            continue
        problem = static_problem(answers[label], chapter)
        if problem:
            status, _, message = problem.partition(": ")
            verdicts[label] = ("error", problem if status == "no credit" else message)
    pending = {label for label in chapter.labels if label not in verdicts}
    while pending:
        found, fatal = run_once(chapter, answers, pending, work, opts)
        verdicts.update(found)
        pending -= set(found)
        if fatal is None:
            break
        if fatal.startswith("!"):
            for label in pending:
                verdicts[label] = ("error", fatal[1:])
            break
    for label in chapter.labels:
        verdicts.setdefault(label, ("error", "the check did not run"))
    return verdicts


# ---------------------------------------------------------------------------------------------
# The class


def _submissions(folder: Path) -> dict[str, list[Path]]:
    students: dict[str, list[Path]] = {}
    for entry in sorted(folder.iterdir()):
        if entry.is_dir():
            students[entry.name] = sorted(p for p in entry.rglob("*") if p.is_file() and p.suffix == ".ipynb")
        elif entry.suffix == ".ipynb":
            students[entry.stem] = [entry]
    return students


def _worker(args: list[str]) -> None:
    """Grade one notebook (in its own process) and print the verdicts as JSON."""
    spec = json.loads(args[0])
    chapter = load_chapter(Path(spec["instructor"]))
    nb, _ = read_submission(Path(spec["submission"]))
    verdicts = grade_notebook(Path(spec["submission"]), chapter, nb, Path(spec["work"]), spec["opts"])
    print(json.dumps(verdicts))


def grade(
    submissions: Path,
    out: Path,
    instructor: Path,
    *,
    jobs: int = 2,
    cell_timeout: float = 60,
    chapter_timeout: float = 600,
    memory_gib: float = 3.0,
    chapters: list[str] | None = None,
    no_sandbox: bool = False,
    log=print,
) -> list[dict]:
    """Grade every submission in ``submissions``; write ``out/gradebook.csv`` and ``out/feedback/``."""
    submissions, out = submissions.resolve(), out.resolve()
    catalogue = load_chapters(instructor)
    students = _submissions(submissions)
    opts = {
        "cell_timeout": cell_timeout,
        "chapter_timeout": chapter_timeout,
        "memory": int(memory_gib * 2**30),
        "no_sandbox": no_sandbox,
        "hidden": [str(submissions), str(out), str(ROOT / "_build")],
    }
    if not no_sandbox and shutil.which("bwrap") is None:
        raise SystemExit(
            "grade: bwrap is not installed (apt-get install bubblewrap, or `make grade` as root); "
            "--no-sandbox runs a trusted class without it"
        )
    work_root = Path(tempfile.mkdtemp(prefix="jbg-", dir="/tmp"))
    jobs_list, notes = [], {name: [] for name in students}
    found: dict[str, dict[str, str]] = {name: {} for name in students}  # student -> chapter -> path
    for name, paths in students.items():
        for path in paths:
            nb, problem = read_submission(path)
            chapter = identify_chapter(path, nb, catalogue)
            if chapter is None:
                notes[name].append(
                    f"`{path.name}`: " + (problem or "no exercise of any chapter in it") + "; not graded"
                )
                continue
            if chapter.id in found[name]:
                notes[name].append(
                    f"`{path.name}`: a second notebook for {chapter.id}; only `{Path(found[name][chapter.id]).name}` "
                    "was graded"
                )
                continue
            found[name][chapter.id] = str(path)
            if nb is None:
                notes[name].append(f"`{path.name}` ({chapter.id}): {problem}")
    used = sorted({c for per in found.values() for c in per} | set(chapters or []))
    if chapters:
        used = [c for c in used if c in chapters]
    labels = [label for c in used for label in catalogue[c].labels]
    results: dict[str, dict[str, tuple[str, str]]] = {name: {} for name in students}
    for name in students:
        for cid in used:
            path = found[name].get(cid)
            if path is None:
                results[name].update(
                    {l: ("missing", "no notebook submitted for this chapter") for l in catalogue[cid].labels}
                )
                continue
            nb, problem = read_submission(Path(path))
            if nb is None:
                results[name].update({l: ("missing", problem) for l in catalogue[cid].labels})
                continue
            work = work_root / f"{len(jobs_list):03d}"
            work.mkdir()
            spec = {
                "instructor": str(instructor.resolve() / f"{catalogue[cid].name}.ipynb"),
                "submission": path,
                "work": str(work),
                "opts": opts,
            }
            jobs_list.append((name, cid, spec))

    def run(job):
        name, cid, spec = job
        started = time.perf_counter()
        limit = chapter_timeout * 4 + cell_timeout * 4 * len(catalogue[cid].labels) + 600
        try:
            proc = subprocess.run(
                [sys.executable, __file__, "--worker", json.dumps(spec)],
                capture_output=True,
                text=True,
                timeout=limit,
                env={**os.environ, "PYTHONHASHSEED": "0"},
            )
            verdicts = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
            if verdicts is None:
                tail = proc.stderr.strip().splitlines()[-1:] or [""]
                verdicts = {
                    l: ("error", f"the grader could not run this notebook: {tail[0][:200]}")
                    for l in catalogue[cid].labels
                }
        except subprocess.TimeoutExpired:
            verdicts = {l: ("timeout", "the notebook as a whole ran out of time") for l in catalogue[cid].labels}
        log(f"graded {name} {cid} in {time.perf_counter() - started:.0f} s")
        return name, verdicts

    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        for name, verdicts in pool.map(run, jobs_list):
            results[name].update({k: tuple(v) for k, v in verdicts.items()})
    shutil.rmtree(work_root, ignore_errors=True)

    out.mkdir(parents=True, exist_ok=True)
    (out / "feedback").mkdir(exist_ok=True)
    rows = []
    with open(out / "gradebook.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "correct", "of", *[c for l in labels for c in (l, f"{l} message")]])
        for name in students:
            row = {"student": name}
            correct = sum(results[name][l][0] == "correct" for l in labels)
            writer.writerow([name, correct, len(labels), *[x for l in labels for x in results[name][l]]])
            row.update({l: results[name][l] for l in labels})
            rows.append(row)
            lines = [f"# Feedback for {name}", "", f"{correct} of {len(labels)} exercises correct.", ""]
            for cid in used:
                lines += [f"## {catalogue[cid].name}", "", "| Exercise | Verdict | Message |", "| --- | --- | --- |"]
                for l in catalogue[cid].labels:
                    status, message = results[name][l]
                    lines.append(f"| {l} | {status} | {message.replace('|', '/').replace(chr(10), ' ')} |")
                lines.append("")
            if notes[name]:
                lines += ["## Notes", "", *[f"- {n}" for n in notes[name]], ""]
            (out / "feedback" / f"{name}.md").write_text("\n".join(lines))
    return rows


def main(argv: list[str] | None = None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        return _worker(argv[1:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("submissions", type=Path, help="one folder per student, or one notebook per student")
    parser.add_argument("--instructor", type=Path, default=ROOT / "notebooks", help="the instructor notebooks")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "grade")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks graded at a time")
    parser.add_argument("--cell-timeout", type=float, default=60, help="seconds for each answer cell and each check")
    parser.add_argument(
        "--chapter-timeout", type=float, default=600, help="seconds for each of the chapter's own cells"
    )
    parser.add_argument("--memory", type=float, default=3.0, help="GiB for a kernel's processes")
    parser.add_argument(
        "--chapters", nargs="*", help="chapter ids (ch01 ...) to put in the gradebook even if no one submitted them"
    )
    parser.add_argument("--no-sandbox", action="store_true", help="run without bubblewrap (a trusted class only)")
    args = parser.parse_args(argv)
    if not args.submissions.is_dir():
        parser.error(f"{args.submissions} is not a folder")
    started = time.perf_counter()
    rows = grade(
        args.submissions,
        args.out,
        args.instructor,
        jobs=args.jobs,
        cell_timeout=args.cell_timeout,
        chapter_timeout=args.chapter_timeout,
        memory_gib=args.memory,
        chapters=args.chapters,
        no_sandbox=args.no_sandbox,
    )
    print(
        f"{len(rows)} students graded in {time.perf_counter() - started:.0f} s: {args.out / 'gradebook.csv'}, "
        f"{args.out / 'feedback'}/"
    )


if __name__ == "__main__":
    main()
