"""The built website in a real headless Chromium with every outside host unreachable.

Run after the build (``make browser``, part of ``make test``). Every request that is not to the
local test server is recorded and aborted; the test then proves that no page asked for one, that
the maths is typeset by the site's own MathJax, that figures load, and that search finds pages.
The same holds for the offline bundle (``make dist``) opened from ``file://``; and the PDF
(``make pdf``) has every chapter's title, typeset maths instead of TeX, the figures, a sane size.
Screenshots of every page go to ``_build/screenshots`` for a human to look at.
"""

from __future__ import annotations

import functools
import http.server
import os
import shutil
import threading
from pathlib import Path
from urllib.parse import urlparse

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SHOTS = ROOT / "_build" / "screenshots"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-features=Translate,OptimizationHints,MediaRouter",
]


def _pages() -> list[str]:
    chapters = sorted(p.relative_to(SITE).as_posix() for p in (SITE / "notebooks").glob("*.html"))
    prose = sorted(p.relative_to(SITE).as_posix() for p in (SITE / "book").glob("*.html"))
    return prose + chapters


if not SITE.joinpath("index.html").is_file():
    pytest.skip("the site is not built: run `make build` first", allow_module_level=True)
if CHROMIUM is None:
    if os.environ.get("CI"):
        raise RuntimeError("Chromium is required in CI: .ci/run installs it (apt-get install chromium)")
    pytest.skip(
        "Chromium is not installed (apt-get install chromium); the offline-site test needs it", allow_module_level=True
    )

from playwright.sync_api import sync_playwright


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep the test output clean
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(_QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    """One Chromium for the whole module (Playwright's sync API allows one instance at a time)."""
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def browser_page(server, browser):
    outside: list[str] = []
    local_ok: list[str] = []
    failed: list[str] = []
    host = urlparse(server).netloc
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(route_):
        url = route_.request.url
        parsed = urlparse(url)
        if parsed.scheme in ("data", "blob") or parsed.netloc == host:
            local_ok.append(url)
            route_.continue_()
        else:
            outside.append(url)
            route_.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    page.on("requestfailed", lambda r: failed.append(r.url) if urlparse(r.url).netloc == host else None)
    page.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    yield page, outside, local_ok, failed
    context.close()


def test_every_page_renders_offline_with_typeset_maths(server, browser_page):
    page, outside, local_ok, failed = browser_page
    SHOTS.mkdir(parents=True, exist_ok=True)
    pages = _pages()
    assert any(p.startswith("notebooks/") for p in pages), "no chapter pages were built"
    summary = []
    for path in pages:
        page.goto(f"{server}/{path}", wait_until="load")
        if page.locator("script[src*='mathjax']").count():  # Sphinx loads MathJax only where there is maths
            page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
            page.evaluate("() => MathJax.startup.promise")
        maths = page.locator("mjx-container").count()
        raw = page.locator(".math:not(:has(mjx-container))").count()
        errors = page.locator("mjx-merror").count()
        broken_images = page.evaluate(
            "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        title = page.title()
        page.screenshot(path=str(SHOTS / (path.replace("/", "_") + ".png")), full_page=False)
        summary.append((path, maths, errors, len(broken_images)))
        assert errors == 0, f"{path}: {errors} maths expression(s) failed to typeset"
        assert raw == 0, f"{path}: {raw} maths element(s) left as raw TeX"
        assert not broken_images, f"{path}: images did not load: {broken_images}"
        assert title, f"{path}: no title"
        if path.startswith("notebooks/"):
            assert maths > 0, f"{path}: no typeset maths on a chapter page"
            links = page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
            stem = Path(path).stem
            for service in ("colab.research.google.com", "mybinder.org"):
                assert any(service in h and f"{stem}.ipynb" in h for h in links), f"{path}: no {service} launch button"
            assert any(h.endswith(f"{stem}.ipynb") and "://" not in h for h in links), f"{path}: no notebook download"
            assert "This page was executed with" in page.content() and "jax 0." in page.content(), (
                f"{path}: no versions"
            )
    print("\npage, typeset expressions, maths errors, broken images")
    for row in summary:
        print(*row, sep=", ")
    print(f"{len(local_ok)} local requests, {len(outside)} outside requests, {len(failed)} failed local requests")
    assert not failed, f"local requests failed: {failed[:10]}"
    assert not outside, f"pages asked for outside hosts: {sorted(set(outside))[:10]}"


def test_search_finds_the_chapters(server, browser_page):
    page, outside, _, _ = browser_page
    for query, expected in [
        ("normal equations", "notebooks/01_least_squares"),
        ("condition number", "notebooks/01_least_squares"),
    ]:
        page.goto(f"{server}/search.html?q={query.replace(' ', '+')}", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hrefs = page.eval_on_selector_all(
            "#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))"
        )
        assert any(expected in (h or "") for h in hrefs), f"search for {query!r} did not find {expected}: {hrefs[:10]}"
    page.screenshot(path=str(SHOTS / "search.png"))
    assert not outside, f"search asked for outside hosts: {sorted(set(outside))[:10]}"


# ---- The offline bundle, opened from file:// ----------------------------------------------------

DIST = ROOT / "_build" / "dist" / "jaxbook-offline.zip"


@pytest.fixture(scope="module")
def offline_copy(tmp_path_factory):
    """The unpacked offline bundle (``make dist``), else the built site itself, as a folder on disk."""
    if DIST.is_file():
        import zipfile

        folder = tmp_path_factory.mktemp("offline")
        with zipfile.ZipFile(DIST) as z:
            z.extractall(folder)
        return folder / "jaxbook-offline"
    if os.environ.get("CI"):
        raise RuntimeError(f"{DIST} is missing: make test builds it (make dist) before the browser test")
    return SITE


@pytest.fixture(scope="module")
def file_page(browser):
    outside: list[str] = []
    context = browser.new_context(viewport={"width": 1280, "height": 900})

    def route(route_):
        url = route_.request.url
        if urlparse(url).scheme in ("file", "data", "blob"):
            route_.continue_()
        else:
            outside.append(url)
            route_.abort("internetdisconnected")

    context.route("**/*", route)
    page = context.new_page()
    yield page, outside
    context.close()


def test_a_chapter_opened_from_file_has_typeset_maths_and_figures(offline_copy, file_page):
    page, outside = file_page
    for name in ("index.html", "notebooks/01_least_squares.html", "notebooks/04_regression_gd.html"):
        page.goto((offline_copy / name).as_uri(), wait_until="load")
        if name == "index.html":  # a redirect to the introduction
            page.wait_for_url("**/book/intro.html", timeout=20_000)
            assert page.title(), "index.html does not lead to the introduction from file://"
            continue
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=20_000)
        page.evaluate("() => MathJax.startup.promise")
        assert page.locator("mjx-container").count() > 0, f"{name}: no typeset maths from file://"
        assert page.locator(".math:not(:has(mjx-container))").count() == 0, f"{name}: raw TeX left from file://"
        assert page.locator("mjx-merror").count() == 0
        broken = page.evaluate(
            "() => [...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
        )
        assert not broken, f"{name}: images did not load from file://: {broken}"
        page.screenshot(path=str(SHOTS / f"file_{Path(name).stem}.png"))
    assert not outside, f"pages opened from file:// asked for outside hosts: {sorted(set(outside))[:10]}"


def test_search_works_from_file(offline_copy, file_page):
    page, outside = file_page
    page.goto((offline_copy / "search.html").as_uri() + "?q=normal+equations", wait_until="load")
    page.wait_for_selector("#search-results ul.search li", timeout=20_000)
    hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))")
    assert any("notebooks/01_least_squares" in (h or "") for h in hrefs), f"search from file:// found {hrefs[:10]}"
    assert not outside


def test_the_bundle_holds_the_pdf_the_notebooks_and_the_handout(offline_copy):
    if offline_copy == SITE:
        pytest.skip("no offline bundle: run `make dist`")
    assert (offline_copy / "jaxbook.pdf").stat().st_size > 100_000
    assert len(list((offline_copy / "notebooks").glob("*.ipynb"))) == len(list((ROOT / "notebooks").glob("*.ipynb")))
    assert (offline_copy / "jaxbook-handout.zip").is_file()


# ---- The PDF (make pdf) -----------------------------------------------------------------------

PDF = ROOT / "_build" / "pdf" / "jaxbook.pdf"


def _poppler(tool: str, *args: str) -> str:
    import subprocess

    if shutil.which(tool) is None:
        pytest.skip(f"{tool} is missing (apt-get install poppler-utils)")
    return subprocess.run([tool, *args], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def pdf_text():
    if not PDF.is_file():
        if os.environ.get("CI"):
            raise RuntimeError(f"{PDF} is missing: make test builds it (make pdf) before the browser test")
        pytest.skip("the PDF is not built: run `make pdf`")
    return " ".join(_poppler("pdftotext", "-enc", "UTF-8", str(PDF), "-").split())


def _notebooks():
    import json

    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        yield path, json.loads(path.read_text())


def test_the_pdf_has_every_chapter_title(pdf_text):
    for path, nb in _notebooks():
        title = "".join(nb["cells"][0]["source"]).splitlines()[0].lstrip("# ").strip()
        assert " ".join(title.split()) in pdf_text, f"{path.name}: title {title!r} is not in the PDF"
    assert "Machine-learning foundations with JAX" in pdf_text or "foundations" in pdf_text


def test_the_pdf_has_no_raw_tex_where_maths_should_be(pdf_text):
    import re

    sources, code = [], []
    for _, nb in _notebooks():
        prose = "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        sources += [m for m in re.findall(r"(?<!\$)\$([^$\n]+?)\$(?!\$)", prose) if "\\" in m]
        for c in nb["cells"]:
            if c["cell_type"] == "code":  # code may spell TeX itself (a plot's label): that is not maths left raw
                code.append("".join(c["source"]))
                code += [
                    "".join(o.get("text", "")) + "".join(o.get("data", {}).get("text/plain", ""))
                    for o in c.get("outputs", [])
                ]
    code_text = " ".join(" ".join(code).split())
    assert len(sources) > 20, "expected the chapters to hold inline maths"
    left = [s for s in sources if " ".join(s.split()) in pdf_text and " ".join(s.split()) not in code_text]
    assert not left, f"raw TeX in the PDF: {left[:5]}"
    assert "$$" not in pdf_text and "\\begin{" not in pdf_text


def test_the_pdf_has_the_figures_and_a_reasonable_size(pdf_text):
    figures = sum(
        1
        for _, nb in _notebooks()
        for c in nb["cells"]
        if c["cell_type"] == "code"
        for o in c.get("outputs", [])
        if "image/png" in o.get("data", {})
    )
    listed = _poppler("pdfimages", "-list", str(PDF)).splitlines()[2:]
    # figures, not the thin background strips of code cells that Chromium also prints as images
    images = [
        line
        for line in listed
        if line.split()[2] == "image" and int(line.split()[3]) >= 200 and int(line.split()[4]) >= 150
    ]
    assert len(images) >= figures, f"{len(images)} images in the PDF, the chapters have {figures} figures"
    import re

    pages = int(re.search(r"Pages:\s+(\d+)", _poppler("pdfinfo", str(PDF))).group(1))
    size = PDF.stat().st_size
    print(f"\nPDF: {pages} pages, {size / 1e6:.1f} MB, {len(images)} images for {figures} figures")
    assert 30 <= pages <= 600, f"{pages} pages"
    assert 200_000 < size < 80_000_000, f"{size / 1e6:.1f} MB"
