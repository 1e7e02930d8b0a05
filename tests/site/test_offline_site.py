"""The built website in a real headless Chromium with every outside host unreachable.

Run after the build (``make browser``, part of ``make test``). Every request that is not to the
local test server is recorded and aborted; the test then proves that no page asked for one, that
the maths is typeset by the site's own MathJax, that figures load, and that search finds pages.
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
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--disable-features=Translate,OptimizationHints,MediaRouter",
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
    pytest.skip("Chromium is not installed (apt-get install chromium); the offline-site test needs it", allow_module_level=True)

from playwright.sync_api import sync_playwright  # noqa: E402


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
def browser_page(server):
    outside: list[str] = []
    local_ok: list[str] = []
    failed: list[str] = []
    host = urlparse(server).netloc
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
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
        browser.close()


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
            assert "This page was executed with" in page.content() and "jax 0." in page.content(), f"{path}: no versions"
    print("\npage, typeset expressions, maths errors, broken images")
    for row in summary:
        print(*row, sep=", ")
    print(f"{len(local_ok)} local requests, {len(outside)} outside requests, {len(failed)} failed local requests")
    assert not failed, f"local requests failed: {failed[:10]}"
    assert not outside, f"pages asked for outside hosts: {sorted(set(outside))[:10]}"


def test_search_finds_the_chapters(server, browser_page):
    page, outside, _, _ = browser_page
    for query, expected in [("normal equations", "notebooks/01_least_squares"), ("condition number", "notebooks/01_least_squares")]:
        page.goto(f"{server}/search.html?q={query.replace(' ', '+')}", wait_until="load")
        page.wait_for_selector("#search-results ul.search li", timeout=20_000)
        hrefs = page.eval_on_selector_all("#search-results ul.search li a", "els => els.map(e => e.getAttribute('href'))")
        assert any(expected in (h or "") for h in hrefs), f"search for {query!r} did not find {expected}: {hrefs[:10]}"
    page.screenshot(path=str(SHOTS / "search.png"))
    assert not outside, f"search asked for outside hosts: {sorted(set(outside))[:10]}"
