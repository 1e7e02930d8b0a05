"""The first code cell of every chapter: set-up for hosted notebook services, a no-op locally.

Colab, Binder and a course's JupyterHub start a chapter without the book's helper package
``jaxbook``. The cell installs it there, and only there, with its runtime dependencies as lower
bounds (``pyproject.toml``), from the repository and branch named in ``_config.yml``. It never
installs or upgrades IPython, ipykernel, Jupyter, the book builder or the test tools, so the
service's own kernel keeps working. Where the installation upgraded a library the service had
already loaded (numpy, say), it tells the reader to restart the runtime.

The cell cannot import ``jaxbook`` itself, so its source is generated here and written into every
notebook by ``make hosted-cell``; ``tests/test_environment.py`` fails when a chapter's cell and
``_config.yml`` disagree. A course that forks the book changes ``repository`` in ``_config.yml``
and runs ``make hosted-cell``.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    import nbformat

ROOT = Path(__file__).resolve().parents[1]
TAGS = ["hide-cell", "hosted-setup"]
#: Environment variables that only a hosted service sets.
HOSTED_VARIABLES = ("BINDER_SERVICE_HOST", "BINDER_LAUNCH_HOST", "JUPYTERHUB_SERVICE_PREFIX")

TEMPLATE = """\
# Set-up for hosted services (Colab, Binder, a JupyterHub): install the book's helper package
# `jaxbook` and the libraries the chapters need. On your own machine, after `make book`, this
# cell does nothing.
import importlib.metadata
import importlib.util
import os
import sys

HOSTED = "google.colab" in sys.modules or any(
    name in os.environ for name in ({variables})
)
if HOSTED and importlib.util.find_spec("jaxbook") is None:
    if sys.version_info < (3, 11):
        raise RuntimeError(f"The book needs Python 3.11 or later; this runtime has {{sys.version.split()[0]}}.")

    def installed_version(distribution):
        try:
            return importlib.metadata.version(distribution)
        except importlib.metadata.PackageNotFoundError:
            return None

    loaded = {{  # the libraries this kernel has already imported, and their versions
        distribution: installed_version(distribution)
        for module, distributions in importlib.metadata.packages_distributions().items()
        if module in sys.modules
        for distribution in distributions
    }}
    PACKAGE = "jaxbook @ git+{url}.git@{branch}"
    %pip install --quiet "{{PACKAGE}}"
    importlib.invalidate_caches()
    if importlib.util.find_spec("jaxbook") is None:
        raise RuntimeError("Installing jaxbook failed: pip's messages above say why.")
    upgraded = sorted(name for name, version in loaded.items() if installed_version(name) != version)
    if upgraded:
        print(
            "jaxbook is installed, but the installation upgraded libraries this runtime had already "
            f"loaded ({{', '.join(upgraded)}}). Restart the runtime (in Colab: Runtime > Restart "
            "session), then run the notebook again from the top."
        )"""


def repository(config_path: Path = ROOT / "_config.yml") -> tuple[str, str]:
    """The repository URL and branch of the book, from ``_config.yml`` (their one source)."""
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))["repository"]
    return config["url"].rstrip("/"), config.get("branch", "main")


def hosted_cell(url: str | None = None, branch: str | None = None) -> str:
    """The source of the hosted set-up cell for the book at ``url`` (default: ``_config.yml``'s)."""
    configured_url, configured_branch = repository()
    variables = ", ".join(f'"{name}"' for name in HOSTED_VARIABLES)
    return TEMPLATE.format(variables=variables, url=url or configured_url, branch=branch or configured_branch)


def add_hosted_cell(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """Make the first code cell of ``nb`` the hosted set-up cell (replacing an older version)."""
    import nbformat  # here, not at the top: the unit tests import this module and need only its text

    cell = nbformat.v4.new_code_cell(source, metadata={"tags": list(TAGS)})
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    if first_code < len(nb.cells) and "hosted-setup" in nb.cells[first_code].metadata.get("tags", []):
        old = nb.cells[first_code]
        cell.id = old.get("id", cell.id)
        cell.execution_count = old.get("execution_count")
        nb.cells[first_code] = cell
    else:
        nb.cells.insert(first_code, cell)
    return nb


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the hosted set-up cell into notebooks.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    source = hosted_cell()
    for path in parser.parse_args(argv).notebooks:
        import nbformat

        nb = nbformat.read(path, as_version=4)
        nbformat.write(add_hosted_cell(nb, source), path)


if __name__ == "__main__":
    main()
