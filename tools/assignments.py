"""Student and instructor copies of the chapters, for teaching a course from the book.

A chapter marks each exercise's solution with sphinx-exercise's gated directives, in markdown::

    ```{solution-start} ch01-ex-group-design
    :class: dropdown
    ```
    (code cells tagged "solution", and markdown explaining them)
    ```{solution-end}
    ```

and calls a checker in the next code cell. :func:`student_copy` removes everything between the
two fences and puts one *answer cell* in its place: a stub with the names the solution defines
(``X_answer = None``, or a ``def`` with the same signature that raises ``NotImplementedError``),
so the checker call that follows stays and gives instant feedback. All outputs are cleared, since
a checker's stored output can quote the answer. :func:`restore_solutions` puts the solutions back.

Every answer cell carries a stable exercise id, in its metadata (``jaxbook.exercise``), its cell id
(``answer-LABEL``) and its first line (``# Exercise LABEL: ...``), and every student copy names its
chapter in the notebook metadata (``jaxbook.chapter``): the grader (``tools/grade.py``) finds a
student's answers by these, whatever else was moved, renamed or deleted.

This is course tooling, not part of the ``jaxbook`` package readers import. Run
``python tools/assignments.py notebooks/*.ipynb --out assignments`` (``make assignments``).
"""

from __future__ import annotations

import argparse
import ast
import copy
import re
from pathlib import Path

import nbformat

START = re.compile(r"^```\{solution-start\}\s+(?P<label>\S+)[^\n]*\n(?::[^\n]*\n)*```[ \t]*$", re.MULTILINE)
END = re.compile(r"^```\{solution-end\}[^\n]*\n```[ \t]*$", re.MULTILINE)
ANSWER_TAG = "answer"
SOLUTION_TAG = "solution"


def _parse(source: str, label: str) -> ast.Module:
    try:
        return ast.parse(_strip_magics(source))
    except SyntaxError as exc:
        raise ValueError(f"the code of {label} is not valid Python: {exc}") from None


def _names_used(source: str, label: str) -> set[str]:
    return {node.id for node in ast.walk(_parse(source, label)) if isinstance(node, ast.Name)}


def _stub_for(cells: list[nbformat.NotebookNode], label: str, check_source: str) -> str:
    """An answer cell with the names the check needs, and nothing of how the solution computes them.

    Only what the solution defines *and* the check cell after it uses is stubbed (a plot's ``ax``
    is not an answer); a solution cell's ``metadata.jaxbook.hint`` becomes a comment on the form
    the answer should take.
    """
    lines = [f"# Exercise {label}: your answer here, then run the check below."]
    lines += [f"# {cell.metadata['jaxbook']['hint']}" for cell in cells if "hint" in cell.metadata.get("jaxbook", {})]
    used = _names_used(check_source, label)
    stubs: list[list[str]] = []
    for cell in cells:
        for node in _parse(cell.source, label).body:
            if isinstance(node, ast.FunctionDef):
                stubs.append(
                    [
                        node.name,
                        "",
                        f"def {node.name}({ast.unparse(node.args)}):",
                        f'    raise NotImplementedError("write {node.name} here")',
                    ]
                )
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for target in targets:
                    for name in ast.walk(target):
                        if isinstance(name, ast.Name):
                            stubs.append([name.id, f"{name.id} = None  # replace None with your answer"])
    wanted = [stub for stub in stubs if stub[0] in used] or stubs
    seen = set()
    for name, *code in wanted:
        if name not in seen:
            seen.add(name)
            lines += code
    return "\n".join(lines)


def _strip_magics(source: str) -> str:
    """The source with each line magic or shell command replaced by ``pass`` at its own indentation."""
    return "\n".join(
        line[: len(line) - len(line.lstrip())] + "pass" if line.lstrip().startswith(("%", "!")) else line
        for line in source.splitlines()
    )


def solution_blocks(nb: nbformat.NotebookNode) -> list[tuple[str, int, int]]:
    """Find the solutions: ``(label, start_cell, end_cell)`` for each gated solution block.

    The start cell is the markdown cell holding the ``solution-start`` fence, the end cell the one
    holding ``solution-end``. Raises ``ValueError`` for unbalanced or nested fences and for a
    cell tagged "solution" outside any block.
    """
    blocks, open_label, open_index = [], None, None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            starts, ends = START.findall(cell.source), END.findall(cell.source)
            if len(starts) > 1 or len(ends) > 1:
                raise ValueError(f"cell {i}: more than one solution fence in one cell")
            end_first = ends and (not starts or END.search(cell.source).start() < START.search(cell.source).start())
            if ends and open_label is None:
                raise ValueError(f"cell {i}: solution-end without a solution-start")
            if ends and end_first:
                blocks.append((open_label, open_index, i))
                open_label = None
            if starts:
                if open_label is not None:
                    raise ValueError(f"cell {i}: solution-start of {starts[0]} inside the solution of {open_label}")
                open_label, open_index = starts[0], i
            if ends and not end_first:
                blocks.append((open_label, open_index, i))
                open_label = None
        elif SOLUTION_TAG in cell.metadata.get("tags", []) and open_label is None:
            raise ValueError(f"cell {i} is tagged 'solution' but is not between solution-start and solution-end")
    if open_label is not None:
        raise ValueError(f"the solution of {open_label} (cell {open_index}) has no solution-end")
    return blocks


def student_copy(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Return a copy of the chapter with every solution replaced by an answer stub, outputs cleared."""
    student = copy.deepcopy(nb)
    blocks = solution_blocks(nb)
    for label, start, end in reversed(blocks):
        inner = nb.cells[start + 1 : end]
        code = [c for c in inner if c.cell_type == "code"]
        if not code:
            raise ValueError(f"the solution of {label} has no code cell")
        check = next((c.source for c in nb.cells[end + 1 :] if c.cell_type == "code"), "")
        head = START.split(nb.cells[start].source)[0].rstrip()
        tail = END.split(nb.cells[end].source)[-1].strip() if start != end else ""
        answer = nbformat.v4.new_code_cell(_stub_for(code, label, check))
        answer.id = answer_cell_id(label)
        answer.metadata = {"tags": [ANSWER_TAG], "jaxbook": {"exercise": label}}
        replacement = []
        if head:
            replacement.append(nbformat.v4.new_markdown_cell(head))
        replacement.append(answer)
        if tail:
            replacement.append(nbformat.v4.new_markdown_cell(tail))
        student.cells[start : end + 1] = replacement
    for cell in student.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    student.metadata.setdefault("jaxbook", {})["chapter"] = chapter_id(nb)
    return student


def answer_cell_id(label: str) -> str:
    """The stable cell id of the answer cell of exercise ``label`` (a valid nbformat cell id)."""
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"answer-{label}")[:64]


def chapter_id(nb: nbformat.NotebookNode) -> str:
    """The chapter's id, ``chNN``, from the labels of its exercises (``ch01-ex-group-design`` -> ``ch01``)."""
    labels = {label.split("-")[0] for label, _, _ in solution_blocks(nb)}
    if len(labels) != 1:
        raise ValueError(f"expected every exercise label to start with the same chapter id, got {sorted(labels)}")
    return labels.pop()


def exercises(nb: nbformat.NotebookNode) -> list[dict]:
    """The exercises of an instructor notebook, in order, for the grader.

    Returns one dict per exercise: ``label``, ``start``/``end`` (the cells holding the solution
    fences), ``solution`` (indices of the solution's code cells), ``check`` (index of the first
    code cell after the solution, the check) and ``defines`` (the names the solution binds).
    """
    found = []
    for label, start, end in solution_blocks(nb):
        solution = [i for i in range(start + 1, end) if nb.cells[i].cell_type == "code"]
        check = next(i for i in range(end + 1, len(nb.cells)) if nb.cells[i].cell_type == "code")
        defines: set[str] = set()
        for i in solution:
            for node in _parse(nb.cells[i].source, label).body:
                if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                    defines.add(node.name)
                elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    defines |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        found.append(
            {"label": label, "start": start, "end": end, "solution": solution, "check": check, "defines": defines}
        )
    return found


def restore_solutions(student: nbformat.NotebookNode, instructor: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Put the instructor's solution code back in place of each answer cell of a student copy."""
    solutions = {
        label: [c for c in instructor.cells[start + 1 : end] if c.cell_type == "code"]
        for label, start, end in solution_blocks(instructor)
    }
    restored = copy.deepcopy(student)
    cells = []
    for cell in restored.cells:
        label = cell.metadata.get("jaxbook", {}).get("exercise")
        if cell.cell_type == "code" and ANSWER_TAG in cell.metadata.get("tags", []):
            if label not in solutions:
                raise ValueError(f"answer cell for {label!r} has no solution in the instructor copy")
            cells.extend(copy.deepcopy(solutions.pop(label)))
        else:
            cells.append(cell)
    if solutions:
        raise ValueError(f"no answer cell for {sorted(solutions)} in the student copy")
    restored.cells = cells
    return restored


def write_assignments(notebooks: list[Path], out: Path) -> list[Path]:
    """Write ``out/student/NAME.ipynb`` (no solutions) and ``out/instructor/NAME.ipynb`` (as is)."""
    written = []
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        for kind, version in (("student", student_copy(nb)), ("instructor", nb)):
            target = out / kind / path.name
            target.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(version, target)
            written.append(target)
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("assignments"))
    args = parser.parse_args(argv)
    written = write_assignments(args.notebooks, args.out)
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
