"""Serve everything the pages need from the site itself, so the book works with no internet.

MathJax is fetched from the npm registry before the build by ``tools/fetch_mathjax.py`` (the
version and hash pinned by ``package-lock.json``; ``make book`` runs it, no Node or npm needed)
and is copied into ``_static/mathjax``; ``mathjax_path`` in ``_config.yml`` points there. The
widget JavaScript that myst-nb would load from a CDN is switched off in ``_config.yml``
(``nb_ipywidgets_js``): no chapter uses widgets.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from sphinx.application import Sphinx
from sphinx.errors import ExtensionError

MATHJAX = Path("node_modules") / "mathjax" / "es5"


def _copy_mathjax(app: Sphinx, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = Path(app.srcdir) / MATHJAX
    if not (source / "tex-mml-chtml.js").is_file():
        raise ExtensionError(
            f"MathJax is missing at {MATHJAX}: run `python tools/fetch_mathjax.py` (make book does it)"
        )
    shutil.copytree(source, Path(app.outdir) / "_static" / "mathjax", dirs_exist_ok=True)


def setup(app: Sphinx) -> dict:
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
