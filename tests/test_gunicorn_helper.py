"""tests/gunicorn.py waits for a server that is slow to answer its first request
(a gunicorn worker still booting on a loaded machine) instead of failing."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.gunicorn import healthz_until


class _SlowFirst(BaseHTTPRequestHandler):
    answered = 0

    def do_GET(self):  # noqa: N802 (http.server's name)
        if type(self).answered == 0:
            time.sleep(1.0)  # longer than the client's read timeout below
        type(self).answered += 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


def test_a_first_request_that_times_out_is_asked_again():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFirst)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        assert healthz_until(url, time.monotonic() + 20, read_timeout=0.3)
        assert _SlowFirst.answered >= 2  # the timed-out one, then a 200 in time
    finally:
        server.shutdown()
        server.server_close()


def test_nothing_listening_is_not_serving_by_the_deadline():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowFirst)
    port = server.server_port
    server.server_close()  # the port is free: connections are refused
    t0 = time.monotonic()
    assert not healthz_until(f"http://127.0.0.1:{port}", t0 + 1.0)
    assert time.monotonic() - t0 < 5
