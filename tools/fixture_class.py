"""A class of made-up submissions that exercises every case the grader must survive.

Generated from the chapters themselves (their exercises, solutions, stubs and check calls), so it
follows the chapters when they change. Each student submits the chosen chapters; per exercise a
*case* says what the answer does, and :data:`EXPECTED` what the gradebook must say about it.

``python tools/fixture_class.py OUT --chapters ch01 ch02`` writes ``OUT/STUDENT/*.ipynb`` and
``OUT/expected.json``; ``make grade`` without ``SUBMISSIONS`` grades this class.
"""

from __future__ import annotations

import argparse
import ast
import json
import random
from pathlib import Path

import assignments
import nbformat

ROOT = Path(__file__).resolve().parents[1]

# student -> the case of each exercise, in order (the last one repeats for longer chapters)
CLASS = {
    "correct": ["correct"],
    "partial": ["correct", "stub", "forged_print", "write_outside"],
    "broken": ["syntax", "exception", "timeout", "static_patch", "correct"],
    "moved": ["correct", "correct", "deleted", "correct"],  # also reordered, renamed file, ids and metadata stripped
    "sneaky": ["memory_hog", "read_other", "runtime_patch", "correct"],
    "invalid": ["whole_file"],  # the notebook is cut in the middle: not JSON
    "empty": ["whole_file"],  # a file of 0 bytes
}

# case -> (verdict, a piece of the message)
EXPECTED = {
    "correct": ("correct", ""),
    "stub": ("not yet", ""),
    "forged_print": ("not yet", ""),
    "write_outside": ("error", "Read-only file system"),
    "syntax": ("error", "SyntaxError"),
    "exception": ("error", "RuntimeError: a bug in my answer"),
    "timeout": ("timeout", "longer than"),
    "static_patch": ("error", "no credit: the answer changes"),
    "deleted": ("missing", "no answer cell"),
    "memory_hog": ("error", "of memory"),
    "read_other": ("error", "FileNotFoundError"),
    "runtime_patch": ("error", "no credit: the checkers or the modules they use were changed at run time"),
    "after_runtime_patch": ("error", "no credit: the checkers or the modules they use were changed at run time"),
    "invalid": ("missing", "not a valid notebook"),
    "empty": ("missing", "the file is empty"),
}


def _check_call(source: str) -> tuple[str, str]:
    """The module alias and the function of a check cell ``chNN.check_x(...)``."""
    call = ast.parse(source).body[-1].value
    if not (
        isinstance(call, ast.Call) and isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
    ):
        raise ValueError(f"a check cell is expected to call module.function(...), got {source!r}")
    return call.func.value.id, call.func.attr


def _functions(sources: list[str]) -> list[str]:
    return [n.name for s in sources for n in ast.parse(s).body if isinstance(n, ast.FunctionDef)]


def answer_source(case: str, header: str, stub: str, solution: list[str], check: str, paths: dict[str, str]) -> str:
    alias, function = _check_call(check)
    body = "\n\n".join(solution)
    if case == "correct":
        return f"{header}\n{body}"
    if case == "stub":
        return stub
    if case == "forged_print":
        return f'{stub}\nprint("Correct: agrees with the reference")'
    if case == "write_outside":
        return f'{body}\nwith open({paths["outside"]!r}, "w") as f:\n    f.write("escaped")'
    if case == "syntax":
        return f"{header}\n{body}\ndef broken(:\n    pass"
    if case == "exception":
        return f'{header}\n{body}\nraise RuntimeError("a bug in my answer")'
    if case == "timeout":
        functions = _functions(solution)
        if functions:  # the answer runs, the check hangs when it calls the function
            return f"{header}\n{body}\n\ndef {functions[0]}(*args, **kwargs):\n    while True:\n        pass"
        return f"{header}\n{body}\nwhile True:\n    pass"
    if case == "static_patch":
        return f'{stub}\n{alias}.{function} = lambda *args, **kwargs: {alias}.Feedback(True, "patched")'
    if case == "memory_hog":
        return f'{header}\n{body}\nhoard = []\nwhile True:\n    hoard.append(b"x" * 200_000_000)'
    if case == "read_other":
        return f"{header}\n{body}\nwith open({paths['other']!r}) as f:\n    copied = f.read()"
    if case == "runtime_patch":  # no construct the static rules know: only the run-time fingerprint sees it
        return f'{stub}\nm = {alias}\nm.{function} = lambda *args, **kwargs: m.Feedback(True, "patched")'
    raise ValueError(f"unknown case {case!r}")


def student_notebook(chapter: Path, cases: list[str], paths: dict[str, str]) -> nbformat.NotebookNode:
    instructor = nbformat.read(chapter, as_version=4)
    student = assignments.student_copy(instructor)
    exercises = assignments.exercises(instructor)
    cells = []
    for cell in student.cells:
        label = cell.metadata.get("jaxbook", {}).get("exercise")
        if label is None:
            cells.append(cell)
            continue
        index = next(i for i, ex in enumerate(exercises) if ex["label"] == label)
        ex = exercises[index]
        case = cases[min(index, len(cases) - 1)]
        if case == "deleted":
            continue
        solution = [instructor.cells[i].source for i in ex["solution"]]
        header = cell.source.splitlines()[0]
        cell.source = answer_source(case, header, cell.source, solution, instructor.cells[ex["check"]].source, paths)
        cells.append(cell)
    student.cells = cells
    return student


def expected_cases(cases: list[str], n: int) -> list[str]:
    out = [cases[min(i, len(cases) - 1)] for i in range(n)]
    if "runtime_patch" in out:
        first = out.index("runtime_patch")
        out = out[: first + 1] + ["after_runtime_patch"] * (n - first - 1)
    return out


def write_class(out: Path, chapters: list[Path], outside: Path) -> dict:
    """Write the class into ``out``; returns (and writes to ``out/expected.json``) the expected gradebook."""
    out.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, list[str]]] = {}
    rng = random.Random(0)
    for student, cases in CLASS.items():
        folder = out / student
        folder.mkdir(exist_ok=True)
        expected[student] = {}
        for chapter in chapters:
            instructor = nbformat.read(chapter, as_version=4)
            labels = [ex["label"] for ex in assignments.exercises(instructor)]
            if len(labels) < 4:
                raise ValueError(f"{chapter.name}: the fixture class needs chapters with at least 4 exercises")
            paths = {"outside": str(outside), "other": str(out / "correct" / chapter.name)}
            target = folder / chapter.name
            if student in ("invalid", "empty"):
                text = nbformat.writes(assignments.student_copy(instructor))
                target.write_text(text[: len(text) // 2] if student == "invalid" else "")
                verdicts = [EXPECTED[student]] * len(labels)
            else:
                nb = student_notebook(chapter, cases, paths)
                if student == "moved":
                    answers = [c for c in nb.cells if "answer" in c.metadata.get("tags", [])]
                    nb.cells = [c for c in nb.cells if c not in answers] + answers[::-1]
                    for cell in nb.cells:
                        cell.metadata = {}
                        cell.id = f"{rng.getrandbits(64):016x}"
                    nb.metadata = {"kernelspec": nb.metadata.get("kernelspec", {})}
                    target = folder / f"homework-{chapter.stem.split('_')[0]}-final.ipynb"
                nbformat.write(nb, target)
                verdicts = [EXPECTED[c] for c in expected_cases(cases, len(labels))]
            expected[student].update({label: list(v) for label, v in zip(labels, verdicts)})
    (out.parent / f"{out.name}-expected.json").write_text(json.dumps(expected, indent=1))
    return expected


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--instructor", type=Path, default=ROOT / "notebooks")
    parser.add_argument("--chapters", nargs="+", default=["ch01", "ch02"])
    parser.add_argument(
        "--outside", type=Path, default=ROOT / "escaped.txt", help="a file an answer tries to write outside its folder"
    )
    args = parser.parse_args(argv)
    chapters = [p for p in sorted(args.instructor.glob("*.ipynb")) if f"ch{p.name[:2]}" in args.chapters]
    write_class(args.out, chapters, args.outside)
    print(f"{len(CLASS)} students, chapters {', '.join(args.chapters)}: {args.out}")


if __name__ == "__main__":
    main()
