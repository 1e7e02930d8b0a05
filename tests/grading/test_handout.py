"""The student handout holds the student notebooks (no solutions), the wheel, the requirements, a README."""

from __future__ import annotations

import json
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
import assignments
import handout


def test_the_handout_has_what_a_student_needs_and_no_solution(tmp_path):
    chapters = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assignments.write_assignments(chapters, tmp_path / "assignments")
    path = handout.write_handout(tmp_path / "assignments" / "student", tmp_path / "handout.zip")
    with zipfile.ZipFile(path) as z:
        names = set(z.namelist())
        assert {f"jaxbook-handout/notebooks/{p.name}" for p in chapters} <= names
        assert "jaxbook-handout/requirements.txt" in names
        assert z.read("jaxbook-handout/requirements.txt") == (ROOT / "requirements.txt").read_bytes()
        wheels = [n for n in names if n.startswith("jaxbook-handout/wheels/jaxbook-") and n.endswith(".whl")]
        assert len(wheels) == 1
        readme = z.read("jaxbook-handout/README.md").decode()
        for needed in ("Linux", "macOS", "Windows", "Colab", "Correct", "Not yet", wheels[0].rsplit("/", 1)[1]):
            assert needed in readme, needed
        for p in chapters:
            nb = json.loads(z.read(f"jaxbook-handout/notebooks/{p.name}"))
            text = "".join("".join(c["source"]) for c in nb["cells"])
            assert "solution-start" not in text and not any(c.get("outputs") for c in nb["cells"])
        with z.open(wheels[0]) as w, zipfile.ZipFile(w) as wheel:
            modules = wheel.namelist()
    assert "jaxbook/checks/ch01.py" in modules and not any("assignments" in m for m in modules)
