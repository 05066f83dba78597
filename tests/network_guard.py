"""Record and block every attempt to reach a non-loopback address from a test.

Installed once per test process by tests/conftest.py, before any test module
imports a library. Raising alone proves nothing: library code swallows the
error (ultralytics' ``is_online`` catches OSError from ``getaddrinfo`` and
carries on). So each attempt is also written down, and the autouse fixture in
tests/conftest.py fails the test at teardown when anything was attempted.

Guarded: ``socket.socket.connect`` / ``connect_ex`` and ``sendto`` /
``sendmsg`` (UDP) on AF_INET/AF_INET6 sockets, ``socket.getaddrinfo``,
``gethostbyname``, ``gethostbyname_ex`` and ``gethostbyaddr``. Allowed:
loopback (127.0.0.0/8, ::1, ``localhost``), AF_UNIX and other local families,
and ``getaddrinfo(None, ...)`` (a passive lookup for binding, no name at all).
"""

from __future__ import annotations

import errno
import ipaddress
import socket
import threading
import traceback

INET_FAMILIES = (socket.AF_INET, socket.AF_INET6)
_REAL: dict[str, object] = {}
_attempts: list[str] = []
_lock = threading.Lock()


def is_loopback(host: object) -> bool:
    """True for 127.0.0.0/8, ::1 (also IPv4-mapped or with a scope) and localhost."""
    if isinstance(host, bytes):
        host = host.decode("ascii", "replace")
    if not isinstance(host, str):
        return False
    name = host.strip().rstrip(".").lower()
    if name == "localhost":
        return True
    try:
        ip = ipaddress.ip_address(name.split("%", 1)[0])
    except ValueError:
        return False
    mapped = getattr(ip, "ipv4_mapped", None)
    return ip.is_loopback or bool(mapped and mapped.is_loopback)


def _host_of(address: object) -> object:
    return address[0] if isinstance(address, tuple) and address else address


def _record(what: str, target: object) -> None:
    frames = [f for f in traceback.extract_stack() if f.filename != __file__]
    where = " <- ".join(
        f"{f.filename.rsplit('site-packages/', 1)[-1]}:{f.lineno} {f.name}"
        for f in reversed(frames[-4:])
    )
    thread = threading.current_thread().name
    with _lock:
        _attempts.append(f"{what}({target!r}) in thread {thread}: {where}")


def pending() -> list[str]:
    """The attempts recorded since the last take(), left in place."""
    with _lock:
        return list(_attempts)


def take() -> list[str]:
    """The attempts recorded since the last call, and forget them."""
    with _lock:
        taken = list(_attempts)
        _attempts.clear()
    return taken


def _unreachable(what: str, target: object) -> OSError:
    return OSError(errno.ENETUNREACH, f"network guard (tests): {what} {target!r}")


def _no_name(what: str, target: object) -> socket.gaierror:
    return socket.gaierror(
        socket.EAI_NONAME, f"network guard (tests): {what} {target!r}"
    )


def _connect(self, address):
    if self.family in INET_FAMILIES and not is_loopback(_host_of(address)):
        _record("socket.connect", address)
        raise _unreachable("connect", address)
    return _REAL["connect"](self, address)


def _connect_ex(self, address):
    if self.family in INET_FAMILIES and not is_loopback(_host_of(address)):
        _record("socket.connect_ex", address)
        return errno.ENETUNREACH
    return _REAL["connect_ex"](self, address)


def _sendto(self, data, *args):
    address = args[-1] if args else None
    if self.family in INET_FAMILIES and not is_loopback(_host_of(address)):
        _record("socket.sendto", address)
        raise _unreachable("sendto", address)
    return _REAL["sendto"](self, data, *args)


def _sendmsg(self, buffers, *args):
    # sendmsg(buffers[, ancdata[, flags[, address]]]): no address = connected.
    if len(args) >= 3 and self.family in INET_FAMILIES:
        address = args[2]
        if address is not None and not is_loopback(_host_of(address)):
            _record("socket.sendmsg", address)
            raise _unreachable("sendmsg", address)
    return _REAL["sendmsg"](self, buffers, *args)


def _getaddrinfo(host, *args, **kwargs):
    if host is not None and not is_loopback(host):
        _record("socket.getaddrinfo", host)
        raise _no_name("getaddrinfo", host)
    return _REAL["getaddrinfo"](host, *args, **kwargs)


def _by_name(name: str):
    def lookup(host, *args):
        if not is_loopback(host):
            _record(f"socket.{name}", host)
            raise _no_name(name, host)
        return _REAL[name](host, *args)

    lookup.__name__ = name
    return lookup


_SOCKET_METHODS = {
    "connect": _connect,
    "connect_ex": _connect_ex,
    "sendto": _sendto,
    "sendmsg": _sendmsg,
}
_MODULE_FUNCTIONS = {
    "getaddrinfo": _getaddrinfo,
    "gethostbyname": _by_name("gethostbyname"),
    "gethostbyname_ex": _by_name("gethostbyname_ex"),
    "gethostbyaddr": _by_name("gethostbyaddr"),
}


def install() -> None:
    """Patch the socket module for the whole process; idempotent, and puts back
    any patch that something else (e.g. pytest-socket's teardown) undid."""
    for name, guarded in _SOCKET_METHODS.items():
        current = getattr(socket.socket, name)
        if current is not guarded:
            _REAL.setdefault(name, current)
            setattr(socket.socket, name, guarded)
    for name, guarded in _MODULE_FUNCTIONS.items():
        current = getattr(socket, name)
        if current is not guarded:
            _REAL.setdefault(name, current)
            setattr(socket, name, guarded)


def removed() -> list[str]:
    """Names of guarded functions that are not the guard's any more."""
    gone = [n for n, g in _SOCKET_METHODS.items() if getattr(socket.socket, n) is not g]
    gone += [n for n, g in _MODULE_FUNCTIONS.items() if getattr(socket, n) is not g]
    return gone
