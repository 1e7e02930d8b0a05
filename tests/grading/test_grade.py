"""The gradebook of a made-up class: every case a submission can break in, on two chapters.

The class is generated from the chapters (``tools/fixture_class.py``): a fully correct student, a
partly correct one, and students whose answers have a syntax error, raise, loop forever, eat
memory, were deleted, moved and renamed, print a fake verdict, patch a checker (visibly, and in a
way only the run-time fingerprint sees), try to write outside their folder or read another
submission, or whose file is not JSON or is empty. Every cell of the gradebook is checked.

Cost: 10 notebook runs in a sandbox, three at a time, plus two re-runs after a timeout and a
memory kill; about 2 minutes on an idle two-core machine, 5-6 minutes under heavy load.
"""

from __future__ import annotations

import csv
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import fixture_class
import grade

CHAPTERS = ["ch01", "ch02"]

if shutil.which("bwrap") is None:
    if __import__("os").environ.get("CI"):
        raise RuntimeError("bubblewrap is required in CI (apt-get install bubblewrap; `make grade-deps` as root)")
    pytest.skip(
        "bubblewrap is not installed (apt-get install bubblewrap): the grader's sandbox needs it",
        allow_module_level=True,
    )


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("class")
    chapters = [p for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if f"ch{p.name[:2]}" in CHAPTERS]
    outside = ROOT / "escaped-by-a-submission.txt"
    outside.unlink(missing_ok=True)
    expected = fixture_class.write_class(base / "submissions", chapters, outside)
    out = base / "out"
    grade.grade(base / "submissions", out, ROOT / "notebooks", jobs=3, cell_timeout=30, memory_gib=2.0)
    with open(out / "gradebook.csv", newline="") as f:
        rows = {row["student"]: row for row in csv.DictReader(f)}
    return expected, rows, out, outside, base


def test_every_cell_of_the_gradebook(graded):
    expected, rows, _, _, _ = graded
    assert sorted(rows) == sorted(expected)
    wrong = []
    for student, verdicts in expected.items():
        row = rows[student]
        assert int(row["correct"]) == sum(v[0] == "correct" for v in verdicts.values()), student
        assert int(row["of"]) == len(verdicts)
        for label, (status, message) in verdicts.items():
            if row[label] != status or message not in row[f"{label} message"]:
                wrong.append(
                    f"{student} {label}: {row[label]!r} {row[label + ' message']!r}, expected {status!r} with "
                    f"{message!r}"
                )
    assert not wrong, "\n".join(wrong)


def test_a_correct_verdict_carries_the_checkers_message(graded):
    _, rows, _, _, _ = graded
    for key, value in rows["correct"].items():
        if key.endswith(" message"):
            assert value and "patched" not in value


def test_no_submission_wrote_outside_its_folder_or_left_files(graded):
    _, _, _, outside, base = graded
    assert not outside.exists(), "a submission wrote outside its folder"
    assert not list((base / "submissions").rglob("*.json")), "a submission's run left files among the submissions"


def test_every_student_gets_a_feedback_file(graded):
    expected, _, out, _, _ = graded
    for student, verdicts in expected.items():
        text = (out / "feedback" / f"{student}.md").read_text()
        assert text.startswith(f"# Feedback for {student}")
        assert all(label in text for label in verdicts)
    assert "not a valid notebook" in (out / "feedback" / "invalid.md").read_text()


def test_static_rules_pass_every_solution_and_flag_patches():
    chapters = grade.load_chapters(ROOT / "notebooks")
    for chapter in chapters.values():
        for ex in chapter.exercises:
            sources = [chapter.nb.cells[i].source for i in ex["solution"]]
            assert grade.static_problem(sources, chapter) is None, f"{ex['label']}: the published solution is flagged"
    ch01 = chapters["ch01"]
    for bad in [
        "ch01.check_gradient = None",
        "import builtins",
        "setattr(ch01, 'x', 1)",
        "jnp = None",
        "def f():\n    global ch01\n    ch01 = None",
        "celsius = 3",  # a name Chapter 1's checks are given (check_r_squared(r_squared_celsius, celsius, fahrenheit))
        "gradient.__code__ = None",
    ]:
        assert grade.static_problem([bad], ch01), bad
