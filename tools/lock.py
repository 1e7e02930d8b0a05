"""The book's lock: ``uv.lock`` leads; ``requirements.txt`` and ``binder/requirements.txt`` follow.

``python tools/lock.py`` re-resolves ``uv.lock`` for every supported Python and platform (network
needed) and exports the two requirements files from it; ``--upgrade`` moves every package to its
newest release. ``tests/test_environment.py`` fails when the exports and the lock disagree.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

HEADER = (
    "# {what}, pinned exactly for each Python and platform: exported from uv.lock\n"
    "# by `make lock` (do not edit by hand; a test fails when the two disagree).\n"
)

#: file -> (header, the options of `uv export` that select its packages)
EXPORTS = {
    "requirements.txt": ("Every package the book installs", ["--all-groups"]),
    "binder/requirements.txt": (
        "What running the chapters needs (Binder brings its own Jupyter)",
        ["--no-default-groups"],
    ),
}


def uv() -> list[str]:
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        raise SystemExit("uv is not installed: `pip install uv` (make venv installs it into .venv)")
    return [found]


def export(path: str) -> str:
    """The text ``path`` should have, exported from ``uv.lock`` without touching the network."""
    header, options = EXPORTS[path]
    command = uv() + ["export", "--frozen", "--no-hashes", "--no-emit-project", "--no-header", *options]
    body = subprocess.run(command, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    return HEADER.format(what=header) + body


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upgrade", action="store_true", help="move every package to its newest release")
    args = parser.parse_args(argv)
    environ = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    lock = uv() + ["lock", "--python", sys.executable] + (["--upgrade"] if args.upgrade else [])
    subprocess.run(lock, cwd=ROOT, check=True, env=environ)
    for path in EXPORTS:
        (ROOT / path).write_text(export(path))
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
