"""The environment the book declares: one lock, its exports, the package's lower bounds, Binder,
and the hosted set-up cell that every chapter starts with."""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
sys.path.insert(0, str(ROOT / "tools"))
import hosted_cell
import lock

PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())
LOCK = tomllib.loads((ROOT / "uv.lock").read_text())


def _locked_versions(name: str) -> list[tuple[int, ...]]:
    def key(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", version))

    return sorted(key(p["version"]) for p in LOCK["package"] if p["name"] == name)


@pytest.mark.parametrize("path", sorted(lock.EXPORTS))
def test_requirements_files_are_exported_from_the_lock(path):
    assert (ROOT / path).read_text() == lock.export(path), f"{path} is out of date: run `make lock`"


def test_the_lock_and_the_package_support_python_3_11_and_later():
    assert PYPROJECT["project"]["requires-python"] == ">=3.11"
    assert LOCK["requires-python"] == ">=3.11"
    # one resolution per Python: the oldest supported Python gets jax 0.10, the newer ones newer
    jax = _locked_versions("jax")
    assert len(jax) >= 2 and jax[0][:2] == (0, 10), jax


def test_each_runtime_lower_bound_is_the_oldest_locked_version():
    """`pip install jaxbook` must never pick a release older than the book was tested with."""
    for requirement in PYPROJECT["project"]["dependencies"]:
        name, minimum = re.fullmatch(r"([A-Za-z0-9_.\-]+)>=([0-9.]+)", requirement).groups()
        oldest = _locked_versions(name)[0]
        assert tuple(int(p) for p in minimum.split(".")) == oldest, (
            f"{name}: pyproject.toml says >={minimum}, but the oldest locked version is {'.'.join(map(str, oldest))}"
        )


def test_binder_builds_on_a_python_the_lock_supports():
    runtime = (ROOT / "binder" / "runtime.txt").read_text().strip()
    major, minor = map(int, re.fullmatch(r"python-(\d+)\.(\d+)", runtime).groups())
    assert (major, minor) >= (3, 11)
    assert "pip install --no-deps ." in (ROOT / "binder" / "postBuild").read_text()


def test_the_repository_has_one_source():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]
    url, branch = hosted_cell.repository()
    assert (url, branch) == (config["url"], config["branch"])
    assert f"git+{url}.git@{branch}" in hosted_cell.hosted_cell()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_hosted_set_up(path):
    # The notebook's JSON itself: nbformat's reader would load its JSON-schema validator, seconds of import
    cells = json.loads(path.read_text())["cells"]
    first = next(c for c in cells if c["cell_type"] == "code")
    source = first["source"] if isinstance(first["source"], str) else "".join(first["source"])
    assert source == hosted_cell.hosted_cell(), f"{path.name}: run `make hosted-cell`"
    assert first["outputs"] == [] and "hide-cell" in first["metadata"]["tags"]


class FakeShell:
    """Records line magics, expanding {variables} from the cell's namespace as IPython does."""

    def __init__(self):
        self.magics = []
        self.namespace = {"get_ipython": lambda: self}

    def run_line_magic(self, name, line, _stack_depth=1):
        self.magics.append((name, line.format(**self.namespace)))


def _run(monkeypatch, environ, installed):
    for name in hosted_cell.HOSTED_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: (object() if installed else None) if name == "jaxbook" else real(name, *a),
    )
    shell = FakeShell()
    code = TransformerManager().transform_cell(hosted_cell.hosted_cell())
    try:
        exec(compile(code, "hosted", "exec"), shell.namespace)
    except RuntimeError as error:  # the fake pip installs nothing, so the cell reports the failure
        shell.magics.append(("error", str(error)))
    return shell.magics


def test_hosted_cell_does_nothing_locally_and_installs_only_jaxbook_in_a_hosted_service(monkeypatch):
    assert _run(monkeypatch, {}, installed=True) == []
    assert _run(monkeypatch, {}, installed=False) == []  # not hosted: never touch the user's environment
    assert _run(monkeypatch, {"BINDER_SERVICE_HOST": "1"}, installed=True) == []
    magics = _run(monkeypatch, {"JUPYTERHUB_SERVICE_PREFIX": "/user/a/"}, installed=False)
    url, branch = hosted_cell.repository()
    assert magics[0] == ("pip", f'install --quiet "jaxbook @ git+{url}.git@{branch}"')
    # %pip does not raise when pip fails: the cell says so itself
    assert magics[1] == ("error", "Installing jaxbook failed: pip's messages above say why.")


def test_the_doctor_finds_nothing_wrong_here_and_exits_zero():
    import subprocess

    done = subprocess.run([sys.executable, "-m", "jaxbook.doctor"], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Everything the notebooks need is here." in done.stdout
    assert "devices          CPU" in done.stdout


def test_the_doctor_names_each_problem_in_plain_words():
    from jaxbook import doctor

    problems = doctor.diagnose(
        python=(3, 13, 5),
        system="Darwin",
        machine="x86_64",
        versions={"jax": None, "numpy": "2.0.2"},
        minimums=[("jax", "0.10.2"), ("numpy", "2.4.6")],
    )
    assert len(problems) == 3
    assert "Intel Mac" in problems[0]
    assert problems[1] == 'jax is not installed: pip install "jax>=0.10.2"'
    assert "numpy 2.0.2 is older than the book needs (2.4.6 or later)" in problems[2]
    assert doctor.diagnose(python=(3, 11, 2), system="Linux", machine="x86_64", versions={}, minimums=[("a", "1")]) == [
        'a is not installed: pip install "a>=1"'
    ]
