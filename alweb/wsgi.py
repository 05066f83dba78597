"""WSGI entry point (gunicorn alweb.wsgi); refuses to start with unsafe settings.

`application` is Django wrapped in `KeepAliveBody`, which keeps RELIABILITY
promise 11: a refused request never costs the client its next one on the same
keep-alive connection.
"""

import os
import time

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "alweb.settings")

# Time a refused request's unread body may take to arrive before the connection
# is given up instead (answered `Connection: close`).
DRAIN_SECONDS = 60
_READ = 64 * 1024


def body_limit() -> int:
    """The largest request body any view accepts (upload, import, plain body)."""
    limits = (
        getattr(settings, "ALWEB_MAX_UPLOAD_BYTES", 0),
        getattr(settings, "ALWEB_MAX_IMPORT_BYTES", 0),
        getattr(settings, "DATA_UPLOAD_MAX_MEMORY_SIZE", 0) or 0,
    )
    return max(int(x) for x in limits)


class CountingInput:
    """`wsgi.input` that counts the bytes the application read from it."""

    def __init__(self, stream):
        self._stream = stream
        self.consumed = 0

    def read(self, *args):
        data = self._stream.read(*args)
        self.consumed += len(data)
        return data

    def readline(self, *args):
        line = self._stream.readline(*args)
        self.consumed += len(line)
        return line

    def readlines(self, *args):
        lines = self._stream.readlines(*args)
        self.consumed += sum(len(line) for line in lines)
        return lines

    def __iter__(self):
        return iter(self.readline, b"")


def _content_length(environ) -> int | None:
    try:
        length = int(environ.get("CONTENT_LENGTH") or "")
    except ValueError:
        return None
    return length if length >= 0 else None


def finish_body(environ, body: CountingInput) -> bool:
    """Read what the application left of the request body, if that is within
    `body_limit()`; True when the connection may serve another request.

    False (nothing or only part read) for a Content-Length beyond the limit, a
    chunked body that turns out longer than the limit, a body that fails to
    arrive (client gone, bad chunk framing) or one slower than DRAIN_SECONDS.
    """
    chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
    length = _content_length(environ)
    limit = body_limit()
    if chunked:
        budget = max(limit - body.consumed, 0)
    elif length is None:
        return True  # no body (gunicorn reads a request without a length as empty)
    elif length > limit:
        return False  # reading it is the cost the limit exists to refuse
    else:
        budget = length - body.consumed
    deadline = time.monotonic() + DRAIN_SECONDS
    drained = 0
    try:
        while True:
            # One byte past the budget tells a chunked body that is too long.
            data = body.read(min(_READ, budget - drained + 1))
            if not data:
                return True
            drained += len(data)
            if drained > budget or time.monotonic() > deadline:
                return False
    except Exception:  # the server's body reader failed: the framing is lost
        return False


def announce_close(start_response) -> None:
    """Make gunicorn answer `Connection: close` and close after this response.

    A WSGI application may not send hop-by-hop headers (PEP 3333) and gunicorn
    drops a `Connection` header set by the app, so the one way is gunicorn's own
    `Response.force_close()`, which it calls itself for max_requests and
    shutdown. `start_response` is that Response's bound method in every gunicorn
    HTTP/1 worker (sync, gthread, gevent, eventlet). Other servers (runserver,
    the test client) have no such method: they are left to their own rules.
    """
    response = getattr(start_response, "__self__", None)
    force_close = getattr(response, "force_close", None)
    if callable(force_close):
        force_close()


class KeepAliveBody:
    """WSGI middleware: once the response starts, the unread rest of the request
    body is read (within the limits) or the server is told to close.

    gunicorn itself drains at most 64 KiB of a body the app did not read and then
    closes the socket, although its response said `Connection: keep-alive`: the
    client's next request on that connection then fails. Refusals (401, 403, 404,
    400, 413) are sent before the body is read, so this covers every response.
    The rest is read at `start_response`, before the headers go out, so the
    connection can still be announced as closing; Django has finished with the
    request body by then (no view here streams a response while reading it).
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        if environ.get("wsgi.input") is None:
            return self.app(environ, start_response)
        body = CountingInput(environ["wsgi.input"])
        environ["wsgi.input"] = body
        finished = False

        def start(status, headers, exc_info=None):
            nonlocal finished
            if not finished:
                finished = True
                if not finish_body(environ, body):
                    announce_close(start_response)
            return start_response(status, headers, exc_info)

        return self.app(environ, start)


application = KeepAliveBody(get_wsgi_application())

from alweb.checks import assert_runtime_settings  # noqa: E402

assert_runtime_settings()
