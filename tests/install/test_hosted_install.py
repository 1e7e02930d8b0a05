"""The hosted set-up cell, for real, without the network: in a fresh virtual environment whose
IPython and ipykernel are at other versions than the book's lock, the cell installs ``jaxbook``
from a local copy of the repository, leaves IPython and ipykernel alone, asks for a restart when it
upgraded a library the kernel had loaded, and a chapter then runs. It also proves that
``pip install`` of the package alone (its declared dependencies, nothing from the lock) gives a
package whose every module imports.

Packages come from ``_build/wheelhouse`` (``make wheelhouse``, part of ``make test``), never from an
index: ``PIP_NO_INDEX`` is set for every pip the test starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[2]
WHEELHOUSE = ROOT / "_build" / "wheelhouse"
sys.path.insert(0, str(ROOT / "tools"))
import hosted_cell

#: What the fresh environment starts with (preinstalled.txt): not the lock's versions of IPython and
#: ipykernel, and a NumPy older than the book's minimum, as a hosted service might have.
PREINSTALLED = dict(line.split("==") for line in (Path(__file__).with_name("preinstalled.txt")).read_text().split())
CHAPTER = ROOT / "notebooks" / "01_least_squares.ipynb"

if not WHEELHOUSE.is_dir():
    pytest.skip("no wheelhouse: run `make wheelhouse` first", allow_module_level=True)


def _python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def _versions(venv: Path, names) -> dict[str, str]:
    code = f"import importlib.metadata as m, json; print(json.dumps({{n: m.version(n) for n in {list(names)!r}}}))"
    return json.loads(subprocess.run([_python(venv), "-c", code], check=True, capture_output=True, text=True).stdout)


def _local_repository(tmp: Path) -> Path:
    """A git repository holding the working tree's package, on branch main (what pip clones)."""
    repo = tmp / "book.git"
    repo.mkdir()
    for name in ("pyproject.toml", "README.md", "src"):
        source = ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, repo / name)
    for pattern in ("**/__pycache__", "**/*.egg-info"):
        for path in list(repo.glob(pattern)):
            shutil.rmtree(path)
    git = ["git", "-c", "user.name=test", "-c", "user.email=test@example.invalid", "-C", str(repo)]
    subprocess.run(git + ["init", "-q", "-b", "main"], check=True)
    subprocess.run(git + ["add", "-A"], check=True)
    subprocess.run(git + ["commit", "-q", "-m", "book"], check=True)
    return repo


def _run(nb: nbformat.NotebookNode, kernel: str, cwd: Path) -> nbformat.NotebookNode:
    NotebookClient(nb, kernel_name=kernel, timeout=600, resources={"metadata": {"path": str(cwd)}}).execute()
    return nb


def _text(cell) -> str:
    return "".join(out.get("text", "") for out in cell.outputs if out.get("output_type") == "stream")


def test_hosted_cell_installs_jaxbook_offline_and_a_chapter_runs(tmp_path, monkeypatch):
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", str(WHEELHOUSE))
    monkeypatch.setenv("PIP_DISABLE_PIP_VERSION_CHECK", "1")
    monkeypatch.setenv("JUPYTERHUB_SERVICE_PREFIX", "/user/student/")  # a hosted service
    venv = tmp_path / "fresh"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    pins = [f"{name}=={version}" for name, version in PREINSTALLED.items()]
    subprocess.run([_python(venv), "-m", "pip", "install", "--quiet", *pins], check=True)
    before = _versions(venv, PREINSTALLED)
    assert before == PREINSTALLED

    kernels = tmp_path / "jupyter"
    subprocess.run(
        [_python(venv), "-m", "ipykernel", "install", "--prefix", kernels, "--name", "fresh"],
        check=True,
        capture_output=True,
    )
    monkeypatch.setenv("JUPYTER_PATH", str(kernels / "share" / "jupyter"))

    # 1. The kernel has loaded NumPy (as Colab's has), then runs the set-up cell from a local copy.
    repo = _local_repository(tmp_path)
    # file://localhost/..., not file:///...: the older pip a service may have (23.x) rejects an
    # empty host in a `name @ url` requirement
    cell = hosted_cell.hosted_cell(url="file://localhost" + repo.as_posix().removesuffix(".git"), branch="main")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("import numpy"), nbformat.v4.new_code_cell(cell)])
    output = _text(_run(nb, "fresh", tmp_path).cells[1])
    assert "Restart the runtime" in output and "numpy" in output, output

    after = _versions(venv, ["ipython", "ipykernel", "numpy", "jaxbook"])
    assert {name: after[name] for name in ("ipython", "ipykernel")} == {
        name: before[name] for name in ("ipython", "ipykernel")
    }
    assert after["numpy"] != PREINSTALLED["numpy"]  # upgraded to the book's minimum or later

    # 2. Every module of the installed (not editable) package imports with the declared dependencies.
    code = (
        "import importlib, pkgutil, jaxbook, jaxbook.checks; "
        "names = [m.name for m in pkgutil.walk_packages(jaxbook.__path__, 'jaxbook.')]; "
        "[importlib.import_module(n) for n in names]; print(len(names), jaxbook.__file__)"
    )
    imported = subprocess.run([_python(venv), "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert imported.returncode == 0, imported.stderr
    assert "site-packages" in imported.stdout, imported.stdout

    # 3. After the restart, a chapter runs top to bottom (its own set-up cell now does nothing).
    chapter = nbformat.read(CHAPTER, as_version=4)
    ran = _run(chapter, "fresh", tmp_path)
    assert _text(ran.cells[next(i for i, c in enumerate(ran.cells) if c.cell_type == "code")]) == ""
    assert _versions(venv, ["ipython", "ipykernel"]) == {name: before[name] for name in ("ipython", "ipykernel")}
