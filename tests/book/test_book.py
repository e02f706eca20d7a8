"""Browser check of the built book: every page loads, images decode, math is typeset, no
request fails, and every table fits the text column at a 1280-pixel-wide window.

Needs the HTML book (``make book``; ``make test`` builds it first and sets RAYINT_REQUIRE_BOOK=1,
so that a missing book fails instead of skipping).
"""

import functools
import http.server
import os
import threading
from pathlib import Path

import pytest

HTML = Path(__file__).resolve().parents[2] / "_build" / "html"
CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.book


def pages():
    if not (HTML / "index.html").exists():
        return []
    return sorted(
        str(p.relative_to(HTML))
        for p in HTML.rglob("*.html")
        if not p.name.startswith(("genindex", "search")) and "_static" not in p.parts
    )


@pytest.fixture(scope="module")
def server():
    if not (HTML / "index.html").exists():
        if os.environ.get("RAYINT_REQUIRE_BOOK"):
            pytest.fail("the book is not built: run `make book`")
        pytest.skip("the book is not built (make book)")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(HTML))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--disable-quic",
            ],
        )
        yield b
        b.close()


RAW_TEX = r"/\\\(|\\\[|\$\$|\\(frac|epsilon|dot|ddot|theta|pi|sum|le|rho|mathbb)\b/"
CHECK_JS = (
    """() => {
  const imgs = [...document.images].map(i => ({src: i.src, ok: i.complete && i.naturalWidth > 0}));
  const clone = document.body.cloneNode(true);
  const hidden = 'pre, code, script, style, mjx-container, .cell_input, textarea';
  clone.querySelectorAll(hidden).forEach(e => e.remove());
  const text = clone.innerText;
  const m = text.match(%s);
  return {imgs, rawTex: m ? text.slice(Math.max(0, m.index - 60), m.index + 60) : null,
          mathNodes: document.querySelectorAll('.math').length,
          typeset: document.querySelectorAll('mjx-container').length};
}"""
    % RAW_TEX
)


WINDOW = {"width": 1280, "height": 800}     # a laptop window: the text column is ~752 px
TABLE_WIDTHS_JS = """() => {
  const column = document.querySelector('article.bd-article') || document.body;
  const width = column.clientWidth;
  const wide = [...column.querySelectorAll('table')]
    .filter(t => t.scrollWidth > width + 1)
    .map(t => ({width: t.scrollWidth,
                section: (t.closest('section') || {}).id || '',
                head: t.innerText.slice(0, 60).replace(/\\s+/g, ' ')}));
  return {width, wide};
}"""


def test_book_has_every_chapter_page():
    names = {Path(p).stem for p in pages()}
    assert {"intro", "claims", "01_minimal_bandit"} <= names or not names


@pytest.mark.parametrize("page", pages())
def test_page_renders_offline(server, browser, page):
    ctx = browser.new_context(viewport=WINDOW)
    pg = ctx.new_page()
    failed = []
    pg.on("requestfailed", lambda r: failed.append(f"{r.url} ({r.failure})"))
    pg.on("response", lambda r: r.status >= 400 and failed.append(f"{r.url} (HTTP {r.status})"))
    pg.goto(f"{server}/{page}", wait_until="networkidle")
    pg.wait_for_function(
        "() => !window.MathJax || !MathJax.startup || MathJax.startup.promise.then(() => true)"
    )
    pg.wait_for_timeout(300)
    result = pg.evaluate(CHECK_JS)
    tables = pg.evaluate(TABLE_WIDTHS_JS)
    ctx.close()
    assert not failed, f"failed requests: {failed}"
    bad = [i["src"] for i in result["imgs"] if not i["ok"]]
    assert not bad, f"images that do not decode: {bad}"
    assert result["rawTex"] is None, f"raw TeX left on the page: ...{result['rawTex']}..."
    if result["mathNodes"]:
        assert result["typeset"] > 0, "math present but MathJax typeset nothing"
    assert not tables["wide"], (f"tables wider than the {tables['width']}-px text column at a "
                                f"{WINDOW['width']}-px window: {tables['wide']}")
