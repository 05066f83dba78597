"""A loopback HTTP server for the browser tests: the canvas harness (this folder)
and the app's static/ files. Test-only: nothing here is collected as static."""

import contextlib
import http.server
import threading
from pathlib import Path
from urllib.parse import unquote, urlsplit

HARNESS = Path(__file__).resolve().parent
STATIC = HARNESS.parents[2] / "static"
MOUNTS = {"/harness/": HARNESS, "/static/": STATIC}


class _Handler(http.server.SimpleHTTPRequestHandler):
    mounts: dict[str, Path] = MOUNTS

    def translate_path(self, path: str) -> str:
        path = unquote(urlsplit(path).path)
        for prefix, root in self.mounts.items():
            if path.startswith(prefix):
                target = (root / path[len(prefix) :]).resolve()
                if target.is_relative_to(root):
                    return str(target)
        return str(HARNESS / "__no_such_file__")  # answered 404

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def serve(mounts: dict[str, Path] | None = None):
    """Serve `mounts` (URL prefix -> folder; default MOUNTS) on 127.0.0.1 and
    yield the base URL; stops the server on exit."""
    handler = type("Handler", (_Handler,), {"mounts": dict(mounts or MOUNTS)})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
