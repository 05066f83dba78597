"""What ships as static files: no HTML page with inline script or style (the
CSP allows neither), and the canvas test harness only from its test server."""

import urllib.error
import urllib.request
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.staticfiles.finders import get_finders

HTML_SUFFIXES = (".html", ".htm", ".xhtml")
# An SVG can carry script too; its style= attributes are fine (an image's own).
SVG_SUFFIX = ".svg"


class _InlineFinder(HTMLParser):
    """Collects the inline script and style of one HTML/SVG document."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._open: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self.found.append("<script> without src")
        if tag in ("script", "style"):
            self._open = tag
        if tag == "style":
            self.found.append("style: <style> element")
        for name, value in attrs.items():
            if name.startswith("on"):
                self.found.append(f"{name}= handler on <{tag}>")
            elif name == "style":
                self.found.append(f"style: style= attribute on <{tag}>")
            elif (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name}= on <{tag}>")

    def handle_endtag(self, tag):
        if tag == self._open:
            self._open = None

    def handle_data(self, data):
        if self._open == "script" and data.strip():
            self.found.append("<script> with a body")


def inline_code(text: str) -> list[str]:
    finder = _InlineFinder()
    finder.feed(text)
    finder.close()
    return finder.found


def production_static_files():
    """(path, file) for every file collectstatic would copy, with its ignores."""
    ignore = apps.get_app_config("staticfiles").ignore_patterns
    for finder in get_finders():
        for path, storage in finder.list(ignore):
            yield path, storage.path(path)


def test_the_detector_finds_inline_script_and_style():
    assert inline_code('<script src="a.js"></script><link rel=stylesheet href=x>') == []
    assert inline_code('<script type="module">import "./a.js";</script>')
    assert inline_code("<style>body {}</style>")
    assert inline_code('<img src=x onerror="alert(1)">')
    assert inline_code('<a href="javascript:alert(1)">x</a>')
    assert inline_code('<div style="color: red"></div>')


def test_production_static_files_hold_no_inline_script_or_style():
    pages = 0
    offenders = {}
    for path, file in production_static_files():
        name = path.lower()
        if not name.endswith((*HTML_SUFFIXES, SVG_SUFFIX)):
            continue
        pages += 1
        with open(file, encoding="utf-8", errors="replace") as fh:
            found = inline_code(fh.read())
        if name.endswith(SVG_SUFFIX):
            found = [f for f in found if not f.startswith("style:")]
        if found:
            offenders[path] = found
    assert pages > 0  # the finders were really searched (admin ships SVGs)
    assert offenders == {}


def test_the_canvas_harness_is_served_only_by_the_test_server():
    from tests.browser.harness.server import HARNESS, serve

    assert (HARNESS / "canvas-harness.html").is_file()
    shipped = {path for path, _ in production_static_files()}
    assert not any("harness" in path for path in shipped)
    with serve() as base:
        with urllib.request.urlopen(f"{base}/harness/canvas-harness.html") as page:
            assert b"mountCanvas" in page.read()
        with urllib.request.urlopen(f"{base}/static/annotate/canvas/index.js") as js:
            assert "javascript" in js.headers["Content-Type"]
        for outside in ("/harness/../chromium.py", "/static/../README.md", "/tests/"):
            with pytest.raises(urllib.error.HTTPError) as exc:
                urllib.request.urlopen(f"{base}{outside}")
            assert exc.value.code == 404, outside
