"""The first code cell of every chapter: set-up for hosted notebook services, a no-op locally.

Colab, Binder and a course's JupyterHub start a chapter without the book's pinned libraries or its
``jaxbook`` package. The cell below installs both there, and only there: it does nothing when
``jaxbook`` is already importable (your machine, after ``make book``). The cell cannot import
``jaxbook`` itself, so its source is kept here and written into every notebook by
``python -m jaxbook.hosted notebooks/*.ipynb``; a test checks that every chapter has it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import nbformat

#: The book's public repository; keep in step with ``repository.url`` in ``_config.yml``.
REPOSITORY = "https://github.com/jaxbook/ml-foundations-jax"

HOSTED_CELL = f'''\
# Set-up for hosted services (Colab, Binder, a JupyterHub): install the book's pinned libraries
# and its helper package there. On your own machine, after `make book`, this cell does nothing.
import importlib.util
import os
import sys

HOSTED = "google.colab" in sys.modules or any(
    name in os.environ for name in ("BINDER_SERVICE_HOST", "BINDER_LAUNCH_HOST", "JUPYTERHUB_SERVICE_PREFIX")
)
if HOSTED and importlib.util.find_spec("jaxbook") is None:
    BOOK = "{REPOSITORY}"
    %pip install --quiet -r {{BOOK}}/raw/main/requirements.txt "jaxbook @ git+{{BOOK}}.git"'''

TAGS = ["hide-cell", "hosted-setup"]


def add_hosted_cell(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Make the first code cell of ``nb`` the hosted set-up cell (replacing an older version)."""
    cell = nbformat.v4.new_code_cell(HOSTED_CELL, metadata={"tags": list(TAGS)})
    first_code = next((i for i, c in enumerate(nb.cells) if c.cell_type == "code"), len(nb.cells))
    if first_code < len(nb.cells) and "hosted-setup" in nb.cells[first_code].metadata.get("tags", []):
        cell.id = nb.cells[first_code].get("id", cell.id)
        nb.cells[first_code] = cell
    else:
        nb.cells.insert(first_code, cell)
    return nb


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the hosted set-up cell into notebooks.")
    parser.add_argument("notebooks", nargs="+", type=Path)
    for path in parser.parse_args(argv).notebooks:
        nb = nbformat.read(path, as_version=4)
        nbformat.write(add_hosted_cell(nb), path)


if __name__ == "__main__":
    main()
