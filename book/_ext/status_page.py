"""The status page: where and how fast each chapter last ran under nbval, from the test runs' records.

Every nbval run (``make nbval``; hooks in ``conftest.py``) writes one JSON record per environment
into ``_build/status/`` (``ENV.json``: the Python, jax, jaxlib, flax, optax and numpy versions, the
XLA instruction-set flag, the cores, the date, and each notebook's outcome and seconds). The
``{jaxbook-status}`` directive turns every record present into the page's tables at build time, and
the page is re-read on every build, so a rebuild after further nbval passes shows them all.
"""

from __future__ import annotations

import json
from pathlib import Path

from docutils import nodes
from docutils.statemachine import StringList
from sphinx.application import Sphinx
from sphinx.util.docutils import SphinxDirective

STATUS = Path("_build") / "status"
PAGE = "book/status"


def _records(srcdir: Path) -> list[dict]:
    records = []
    for path in sorted((srcdir / STATUS).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            record["id"] = record.get("id") or path.stem
            records.append(record)
        except (OSError, ValueError):
            continue
    return sorted(records, key=lambda r: r.get("date", ""), reverse=True)


def _title(srcdir: Path, notebook: str) -> str:
    try:
        nb = json.loads((srcdir / notebook).read_text())
        first = "".join(nb["cells"][0]["source"]).splitlines()[0]
        return first.lstrip("# ").strip() or Path(notebook).stem
    except (OSError, ValueError, KeyError, IndexError):
        return Path(notebook).stem


def _environment(env: dict) -> str:
    parts = [f"Python {env.get('python', '?')}"]
    parts += [f"{name} {env[name]}" for name in ("jax", "jaxlib", "flax", "optax", "numpy") if env.get(name)]
    parts.append(f"XLA ISA {env.get('isa') or 'default'}")
    parts.append(f"{env.get('cores', '?')} core(s)")
    return ", ".join(parts)


class StatusDirective(SphinxDirective):
    has_content = False  # the page is MyST: the generated text below is Markdown

    def run(self) -> list[nodes.Node]:
        srcdir = Path(self.env.srcdir)
        records = _records(srcdir)
        lines: list[str] = []
        if not records:
            lines += [
                "No test record was present when this site was built: the chapters' execution status is",
                "unknown here. `make nbval` (part of `make test`) writes the records, and the next build",
                "shows them.",
            ]
        notebooks = sorted({nb for r in records for nb in r.get("notebooks", {})})
        for record in records:
            lines += [
                f"**{_environment(record.get('environment', {}))}**, "
                f"{record.get('platform', '')}, run on {record.get('date', '?')[:16].replace('T', ' ')} UTC.",
                "",
                "| Chapter | Outcome | Execution time (s) |",
                "| --- | --- | --- |",
            ]
            for notebook in notebooks:
                result = record.get("notebooks", {}).get(notebook)
                if result is None:
                    lines += [f"| {_title(srcdir, notebook)} | not run in this environment | |"]
                else:
                    lines += [
                        f"| {_title(srcdir, notebook)} | {result.get('outcome', '?')} | "
                        f"{result.get('seconds', 0):.1f} |"
                    ]
            lines += [""]
        container = nodes.container()
        self.state.nested_parse(StringList(lines, source="jaxbook-status"), self.content_offset, container)
        return container.children


def _always_reread(app, env, added, changed, removed):
    return [PAGE] if PAGE in env.found_docs else []


def setup(app: Sphinx) -> dict:
    app.add_directive("jaxbook-status", StatusDirective)
    app.connect("env-get-outdated", _always_reread)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
