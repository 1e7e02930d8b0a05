"""Student copies hold no solution, keep every check, and get their solutions back exactly."""

from __future__ import annotations

import ast
import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))  # course tooling lives outside the package readers import
import assignments

NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module", params=NOTEBOOKS, ids=lambda p: p.stem)
def chapter(request):
    original = nbformat.read(request.param, as_version=4)
    return request.param, original, assignments.student_copy(original)


def _code_lines(source: str) -> set[str]:
    return {line.strip() for line in source.splitlines() if line.strip() and not line.strip().startswith("#")}


def test_every_chapter_has_at_least_three_exercises_with_solutions(chapter):
    path, original, _ = chapter
    labels = re.findall(
        r"^```\{exercise\}.*\n:label: (\S+)",
        "\n".join(c.source for c in original.cells if c.cell_type == "markdown"),
        re.M,
    )
    solved = [label for label, _, _ in assignments.solution_blocks(original)]
    assert len(labels) >= 3, f"{path.name}: {len(labels)} exercises"
    assert sorted(solved) == sorted(labels), f"{path.name}: exercises {labels}, solutions {solved}"


def test_no_solution_survives_in_the_student_copy(chapter):
    path, original, student = chapter
    text = "\n".join(c.source for c in student.cells)
    assert "solution-start" not in text and "solution-end" not in text
    assert not [c for c in student.cells if "solution" in c.metadata.get("tags", [])]
    assert all(not c.get("outputs") for c in student.cells if c.cell_type == "code"), "outputs can quote answers"
    blocks = assignments.solution_blocks(original)
    inside = {i for _, start, end in blocks for i in range(start + 1, end)}
    # what the chapter shows outside its solutions (code and prose) is not a leak when it reappears
    kept = set().union(*(_code_lines(c.source) for i, c in enumerate(original.cells) if i not in inside))
    for label, start, end in blocks:
        secret = set()
        for cell in original.cells[start + 1 : end]:
            secret |= _code_lines(cell.source) if cell.cell_type == "code" else set()
        prose = [c.source for c in original.cells[start + 1 : end] if c.cell_type == "markdown"]
        stub_lines = set().union(
            *(_code_lines(c.source) for c in student.cells if "answer" in c.metadata.get("tags", []))
        )
        leaked = {line for line in secret - kept - stub_lines if line in _code_lines(text)}
        assert not leaked, f"{path.name} {label}: solution lines in the student copy: {leaked}"
        for paragraph in prose:
            for sentence in filter(None, (s.strip() for s in paragraph.split("\n\n"))):
                if "solution-" not in sentence:
                    assert sentence not in text, f"{path.name} {label}: solution prose in the student copy"


def test_student_copy_keeps_every_check_and_every_other_cell(chapter):
    _, original, student = chapter
    original_code = [
        c.source for c in original.cells if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])
    ]
    student_code = [
        c.source for c in student.cells if c.cell_type == "code" and "answer" not in c.metadata.get("tags", [])
    ]
    assert student_code == original_code
    answers = [c for c in student.cells if "answer" in c.metadata.get("tags", [])]
    assert len(answers) == len(assignments.solution_blocks(original))
    for cell in answers:
        ast.parse(cell.source)  # a stub is valid Python
        label = cell.metadata["jaxbook"]["exercise"]
        assert cell.id == assignments.answer_cell_id(label) and cell.source.startswith(f"# Exercise {label}:")
    assert student.metadata["jaxbook"]["chapter"] == assignments.chapter_id(original)
    nbformat.validate(student)  # stable cell ids are valid ones


def test_restoring_the_solutions_gives_back_the_chapter_whose_checks_pass(chapter):
    path, original, student = chapter
    restored = assignments.restore_solutions(student, original)
    assert [(c.source, c.metadata.get("tags", [])) for c in restored.cells if c.cell_type == "code"] == [
        (c.source, c.metadata.get("tags", [])) for c in original.cells if c.cell_type == "code"
    ]
    # The restored code is the chapter's own code, which nbval re-executes; its stored check outputs say Correct.
    for label, _, end in assignments.solution_blocks(original):
        check = next(c for c in original.cells[end + 1 :] if c.cell_type == "code")
        shown = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "") for o in check.outputs)
        assert shown.startswith("Correct"), f"{path.name} {label}: the check after the solution printed {shown!r}"


def test_later_cells_do_not_depend_on_solutions(chapter):
    """Otherwise a student copy would stop with a NameError at the first such cell."""
    path, original, _ = chapter
    blocks = assignments.solution_blocks(original)
    for label, start, end in blocks:
        defined = set()
        for cell in original.cells[start + 1 : end]:
            if cell.cell_type == "code":
                for node in ast.parse(cell.source).body:
                    if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
                        defined.add(node.name)
                    elif isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
                        targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                        defined |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        code_after = [
            c
            for c in original.cells[end + 1 :]
            if c.cell_type == "code" and "solution" not in c.metadata.get("tags", [])
        ]
        for cell in code_after[1:]:  # the first is the check itself
            redefined = set()
            for node in ast.parse(cell.source).body:
                if isinstance(node, (ast.Assign, ast.FunctionDef)):
                    targets = [node] if isinstance(node, ast.FunctionDef) else node.targets
                    redefined |= {getattr(n, "id", getattr(n, "name", None)) for t in targets for n in ast.walk(t)}
            used = {
                n.id
                for n in ast.walk(ast.parse(cell.source))
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
            }
            assert not (used & defined) - redefined, (
                f"{path.name}: a cell after {label} uses {(used & defined) - redefined}"
            )
            defined -= redefined


def test_bad_markup_is_rejected():
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell("```{solution-start} ex\n:class: dropdown\n```"),
        nbformat.v4.new_code_cell("a = 1"),
    ]
    with pytest.raises(ValueError, match="the solution of ex .* has no solution-end"):
        assignments.solution_blocks(nb)
    nb.cells = [nbformat.v4.new_code_cell("a = 1", metadata={"tags": ["solution"]})]
    with pytest.raises(ValueError, match="tagged 'solution' but is not between"):
        assignments.solution_blocks(nb)


def test_student_copy_of_chapter_1_runs_and_every_check_says_not_yet(tmp_path):
    student = assignments.student_copy(nbformat.read(NOTEBOOKS[0], as_version=4))
    NotebookClient(
        student, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    checks = [c for c in student.cells if c.cell_type == "code" and re.search(r"\bch\d\d\.check_", c.source)]
    assert checks
    for cell in checks:
        shown = "".join(o.get("data", {}).get("text/plain", "") + o.get("text", "") for o in cell.outputs)
        assert shown.startswith("Not yet"), f"{cell.source!r} printed {shown!r}"
