"""The student handout: one archive with what a student needs to do the exercises.

``make handout`` writes ``_build/handout/jaxbook-handout.zip``::

    jaxbook-handout/
      README.md            how to install (Linux, macOS, Windows, Colab) and how the checks work
      requirements.txt     the book's pinned environment (exported from uv.lock)
      wheels/jaxbook-*.whl the book's helper package, with the checkers
      notebooks/*.ipynb    the student copies: no solutions, checks kept, outputs cleared
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

README = """# Machine-learning foundations with JAX: exercises

This folder holds the exercises of the book as notebooks, one per chapter, with an answer cell
where each solution was, and the book's helper package `jaxbook` that checks your answers.

## Install (once)

You need Python 3.11 or newer (3.11, 3.12 or 3.13) from https://www.python.org or your system's
packages. Open a terminal in this folder, then:

Linux and macOS (Apple silicon):

```bash
python3 -m venv .venv
source .venv/bin/activate
python -m pip install -r requirements.txt
python -m pip install --no-deps wheels/{wheel}
jupyter lab notebooks
```

Windows (PowerShell):

```powershell
py -m venv .venv
.venv\\Scripts\\Activate.ps1
python -m pip install -r requirements.txt
python -m pip install --no-deps wheels\\{wheel}
jupyter lab notebooks
```

`requirements.txt` pins every library to the versions the book was tested with, for Linux,
Windows and Apple-silicon macOS. It needs the internet once, for the installation; after that
everything runs offline.

On Google Colab: upload a notebook (File, Upload notebook) and the wheel (the folder icon on the
left, then Upload), and run `%pip install {wheel}` in a new first cell. Colab's own versions of
jax and numpy differ from the book's, so a printed number can differ in its last digits; the
checks allow for that.

## Doing the exercises

Each exercise has an *answer cell* that starts with `# Exercise LABEL: your answer here` and
holds a stub, for example `X_answer = None` or a function that raises `NotImplementedError`.
Replace the stub with your answer and run the cell below it, which calls a checker, for example
`ch01.check_gradient(gradient)`. It prints `Correct: ...` or `Not yet: ...` with what is wrong (a
shape, a sign, a missing factor). Run the notebook from the top first: the exercises use the data
and functions the chapter builds before them.

If your work is graded, hand in the notebook itself (`.ipynb`). Keep the first line of each
answer cell (`# Exercise LABEL: ...`): the grader finds your answers by it. You may add cells
right after an answer cell; they count as part of that answer. The grader runs your answers with
its own copy of the checks, so changing the checks in your copy changes nothing, and an answer
that changes the checkers or the `jaxbook` modules gets no credit.
"""


def build_wheel(dest: Path) -> Path:
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(dest),
            str(ROOT),
        ],
        check=True,
    )
    wheels = sorted(dest.glob("jaxbook-*.whl"))
    if len(wheels) != 1:
        raise RuntimeError(f"expected one jaxbook wheel, got {wheels}")
    return wheels[0]


def write_handout(student: Path, out: Path) -> Path:
    notebooks = sorted(student.glob("*.ipynb"))
    if not notebooks:
        raise SystemExit(f"no student notebooks in {student}: run `make assignments` first")
    with tempfile.TemporaryDirectory() as tmp:
        wheel = build_wheel(Path(tmp))
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
            top = "jaxbook-handout"
            z.writestr(f"{top}/README.md", README.replace("{wheel}", wheel.name))
            z.write(ROOT / "requirements.txt", f"{top}/requirements.txt")
            z.write(wheel, f"{top}/wheels/{wheel.name}")
            for nb in notebooks:
                z.write(nb, f"{top}/notebooks/{nb.name}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--student", type=Path, default=ROOT / "assignments" / "student")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "handout" / "jaxbook-handout.zip")
    args = parser.parse_args(argv)
    path = write_handout(args.student, args.out)
    with zipfile.ZipFile(path) as z:
        names = z.namelist()
    print(f"{path}: {len(names)} files, {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
