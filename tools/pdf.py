"""One PDF of the whole book, printed from the built website: ``make pdf``.

Every page (the introduction, then every chapter in the order of ``_toc.yml``) is opened from the
built site in the Debian Chromium the browser test uses, with every request outside the site
refused, and printed once MathJax has typeset the maths and the figures have loaded, without the
site's navigation. ``pdfunite`` (Debian's poppler-utils) joins the pages into ``jaxbook.pdf``,
which also lands in the site (``_build/html/jaxbook.pdf``: the status page links to it).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRINT_CSS = """
.bd-header, .bd-sidebar-primary, .bd-sidebar-secondary, .header-article, .prev-next-area, .bd-footer,
.bd-footer-article, .bd-footer-content, footer, .headerlink, .skip-link, #pst-back-to-top, .dropdown-toggle
  { display: none !important; }
.bd-main, .bd-content, .bd-article-container, .bd-page-width, .bd-container, .bd-container__inner
  { max-width: 100% !important; width: 100% !important; margin: 0 !important; padding: 0 !important; }
details.dropdown, details { display: block; }
details > summary ~ * { display: block !important; }
div.cell_output img { max-width: 100% !important; page-break-inside: avoid; }
div.cell, figure { page-break-inside: avoid; }
h1, h2, h3 { page-break-after: avoid; }
pre { white-space: pre-wrap !important; overflow-wrap: anywhere; overflow: visible !important; }
"""


def pages(site: Path) -> list[Path]:
    """The introduction and the chapters, in the order of the table of contents."""
    toc = (ROOT / "_toc.yml").read_text()
    root = re.search(r"^root:\s*(\S+)", toc, re.M).group(1)
    chapters = re.findall(r"-\s*file:\s*(notebooks/\S+)", toc)
    found = [site / f"{p}.html" for p in [root, *chapters]]
    missing = [p for p in found if not p.is_file()]
    if missing:
        raise SystemExit(f"the site is not built (missing {missing[0]}): run `make build` first")
    return found


def print_pages(site: Path, out: Path, chromium: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="jaxbook-pdf-"))
    printed = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--headless=new", "--no-sandbox", "--disable-gpu"])
        context = browser.new_context()
        context.route(
            "**/*", lambda r: r.continue_() if r.request.url.startswith(("file:", "data:", "blob:")) else r.abort()
        )
        page = context.new_page()
        for i, path in enumerate(pages(site)):
            page.goto(path.resolve().as_uri(), wait_until="load")
            if page.locator("script[src*='mathjax']").count():
                page.wait_for_function(
                    "() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=60_000
                )
                page.evaluate("() => MathJax.startup.promise")
            page.add_style_tag(content=PRINT_CSS)
            page.evaluate("() => document.querySelectorAll('details').forEach(d => d.open = true)")
            page.wait_for_function("() => [...document.images].every(i => i.complete)", timeout=60_000)
            target = tmp / f"{i:02d}.pdf"
            page.pdf(
                path=str(target),
                format="A4",
                print_background=True,
                margin={"top": "18mm", "bottom": "18mm", "left": "16mm", "right": "16mm"},
            )
            printed.append(target)
        browser.close()
    return printed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "pdf" / "jaxbook.pdf")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    unite = shutil.which("pdfunite")
    if chromium is None or unite is None:
        raise SystemExit(
            "make pdf needs chromium and pdfunite (apt-get install chromium poppler-utils; `make pdf` does it as root)"
        )
    started = time.perf_counter()
    printed = print_pages(args.site, args.out, chromium)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([unite, *map(str, printed), str(args.out)], check=True)
    shutil.rmtree(printed[0].parent, ignore_errors=True)
    shutil.copy2(args.out, args.site / "jaxbook.pdf")
    print(
        f"{args.out}: {len(printed)} parts, {args.out.stat().st_size / 1e6:.1f} MB, in "
        f"{time.perf_counter() - started:.0f} s"
    )


if __name__ == "__main__":
    main()
