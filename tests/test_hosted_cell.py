"""Every chapter starts with the hosted set-up cell, which installs only in a hosted service."""

from pathlib import Path

import nbformat
import pytest
import yaml
from IPython.core.inputtransformer2 import TransformerManager

from jaxbook import hosted

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_first_code_cell_is_the_hosted_set_up(path):
    nb = nbformat.read(path, as_version=4)
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.source == hosted.HOSTED_CELL, f"{path.name}: run `python -m jaxbook.hosted {path}`"
    assert first.outputs == [] and "hide-cell" in first.metadata["tags"]


def test_repository_matches_the_book_configuration():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert hosted.REPOSITORY == config["repository"]["url"]


class FakeShell:
    """Records line magics, expanding {variables} from the cell's namespace as IPython does."""

    def __init__(self):
        self.magics = []
        self.namespace = {"get_ipython": lambda: self}

    def run_line_magic(self, name, line, _stack_depth=1):
        self.magics.append((name, line.format(**self.namespace)))


def _run(monkeypatch, environ, installed):
    for name in ("BINDER_SERVICE_HOST", "BINDER_LAUNCH_HOST", "JUPYTERHUB_SERVICE_PREFIX"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environ.items():
        monkeypatch.setenv(name, value)
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: object() if installed and name == "jaxbook" else (None if name == "jaxbook" else real(name, *a)))
    shell = FakeShell()
    code = TransformerManager().transform_cell(hosted.HOSTED_CELL)
    exec(compile(code, "hosted", "exec"), shell.namespace)
    return shell.magics


def test_hosted_cell_does_nothing_locally_and_installs_in_a_hosted_service(monkeypatch):
    assert _run(monkeypatch, {}, installed=True) == []
    assert _run(monkeypatch, {}, installed=False) == []  # not hosted: never touch the user's environment
    assert _run(monkeypatch, {"BINDER_SERVICE_HOST": "1"}, installed=True) == []
    magics = _run(monkeypatch, {"JUPYTERHUB_SERVICE_PREFIX": "/user/a/"}, installed=False)
    assert len(magics) == 1 and magics[0][0] == "pip"
    assert f"-r {hosted.REPOSITORY}/raw/main/requirements.txt" in magics[0][1]
    assert f"jaxbook @ git+{hosted.REPOSITORY}.git" in magics[0][1]
