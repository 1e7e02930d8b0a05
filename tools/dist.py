"""The offline bundle: the website, the PDF, the notebooks and the student handout in one archive.

``make dist`` writes ``_build/dist/jaxbook-offline.zip``. Unpacked anywhere, ``index.html`` opens
the book from ``file://`` with no network: MathJax, fonts, scripts and the search index are all
served from the folder (the browser test opens a chapter from it and searches).
"""

from __future__ import annotations

import argparse
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOP = "jaxbook-offline"
README = """# Machine-learning foundations with JAX, offline

- `index.html`: the website. Open it in a browser (double-click): it works with no network,
  search and maths included.
- `jaxbook.pdf`: the whole book as one PDF.
- `notebooks/`: the chapters as Jupyter notebooks, with their outputs.
- `jaxbook-handout.zip`: the exercises without solutions, the `jaxbook` package and how to
  install them (see its README).
"""


def write_dist(site: Path, handout: Path, out: Path) -> Path:
    for needed in (site / "index.html", site / "jaxbook.pdf", handout):
        if not needed.is_file():
            raise SystemExit(f"{needed} is missing: run `make pdf` and `make handout` first (make dist does)")
    out.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr(f"{TOP}/README.md", README)
        for path in sorted(site.rglob("*")):
            if path.is_file() and ".doctrees" not in path.parts:
                z.write(path, f"{TOP}/{path.relative_to(site).as_posix()}")
        for nb in sorted((ROOT / "notebooks").glob("*.ipynb")):
            if not (site / "notebooks" / nb.name).is_file():  # the site may already hold it, beside its page
                z.write(nb, f"{TOP}/notebooks/{nb.name}")
        z.write(handout, f"{TOP}/{handout.name}")
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--handout", type=Path, default=ROOT / "_build" / "handout" / "jaxbook-handout.zip")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "dist" / "jaxbook-offline.zip")
    args = parser.parse_args(argv)
    path = write_dist(args.site, args.handout, args.out)
    print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
