"""Promise 11 through real gunicorn: a refused request never costs a client its next.

gunicorn's gthread worker drains at most 64 KiB of a body the app did not read and
then closes the socket, while its answer said `Connection: keep-alive`; a
`requests.Session` then loses its next request (`RemoteDisconnected`). Each
scenario here uses ONE session: the refused request (its status asserted), then
an ordinary request on the same session, for body sizes from 0 across 64 KiB up
to the largest limit and past it. Small limits come from the environment.
"""

import os
from dataclasses import dataclass

import pytest
import requests

from alweb.roles import Role

KIB = 1024
GUNICORN_DRAIN = 64 * KIB  # gunicorn.http.parser._DRAIN_MAX_BYTES
MAX_BODY = 96 * KIB  # DATA_UPLOAD_MAX_MEMORY_SIZE
MAX_IMPORT = 160 * KIB  # ALWEB_MAX_IMPORT_BYTES
MAX_UPLOAD = 200 * KIB  # ALWEB_MAX_UPLOAD_BYTES: the largest, what the server drains
MAX_FILES = 3  # ALWEB_MAX_FILES_PER_REQUEST
LIMIT = max(MAX_BODY, MAX_IMPORT, MAX_UPLOAD)
UNDER = sorted(
    {0, 1, 1000, GUNICORN_DRAIN - 1, GUNICORN_DRAIN, GUNICORN_DRAIN + 1}
    | {2 * GUNICORN_DRAIN + 1, LIMIT - 1, LIMIT}
)
OVER = [LIMIT + 1, 3 * LIMIT]
BOUNDARY = "alweb-keepalive-test-boundary"

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]


# The server --------------------------------------------------------------------


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker):
    from django.conf import settings

    from tests import gunicorn
    from tests.runs import qclusters

    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.api.gunicorn_settings",
        "ALWEB_VAR_DIR": str(settings.VAR_DIR),
        **qclusters.database_env(),
        "ALWEB_MAX_UPLOAD_BYTES": str(MAX_UPLOAD),
        "ALWEB_MAX_IMPORT_BYTES": str(MAX_IMPORT),
        "ALWEB_TEST_MAX_BODY_BYTES": str(MAX_BODY),
        "ALWEB_MAX_FILES_PER_REQUEST": str(MAX_FILES),
        "ALWEB_Q_SYNC": "1",
    }
    running = gunicorn.start(env, workers=1, threads=4)
    try:
        yield running
    finally:
        gunicorn.stop(running.proc)


# The data ---------------------------------------------------------------------


@pytest.fixture
def world():
    from rest_framework.authtoken.models import Token

    from tests.factories import UserFactory, add_member, make_project

    owner = UserFactory(username="ka-owner")
    project = make_project(owner, name="Keepalive")
    annotator = add_member(project, Role.ANNOTATOR, UserFactory(username="ka-ann"))
    outsider = UserFactory(username="ka-outsider")
    tokens = {
        who: "Token " + Token.objects.create(user=user).key
        for who, user in (
            ("owner", owner),
            ("annotator", annotator),
            ("outsider", outsider),
        )
    }
    tokens["bad"] = "Token " + "0" * 40
    return project.pk, tokens


def _part_head(i: int) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="f{i}.png"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()


_TAIL = f"--{BOUNDARY}--\r\n".encode()


def multipart_overhead(files: int) -> int:
    return sum(len(_part_head(i)) + 2 for i in range(files)) + len(_TAIL)


def multipart(size: int, files: int = 1) -> bytes:
    """A multipart body of exactly `size` bytes holding `files` parts named files
    (only padding when `size` is below the multipart overhead)."""
    overhead = multipart_overhead(files)
    if size < overhead:
        return b"x" * size
    payload = size - overhead
    parts = [payload // files + (1 if i < payload % files else 0) for i in range(files)]
    body = b"".join(_part_head(i) + b"\x89" * n + b"\r\n" for i, n in enumerate(parts))
    body += _TAIL
    assert len(body) == size
    return body


MULTIPART = f"multipart/form-data; boundary={BOUNDARY}"


@dataclass(frozen=True)
class Scenario:
    name: str
    method: str
    path: str  # {p} is the project id
    token: str | None
    content_type: str
    status: int
    sizes: tuple[int, ...]
    files: int = 1  # multipart parts (when content_type is MULTIPART)
    chunked: bool = False

    def body(self, size: int) -> bytes:
        if self.content_type == MULTIPART:
            return multipart(size, self.files)
        if self.content_type == "application/json":
            # A JSON object padded with spaces: still valid JSON at any size.
            doc = b'{"kind": "label"}'
            return doc + b" " * (size - len(doc)) if size >= len(doc) else b" " * size
        return b"x" * size


UPLOAD = "/api/v1/projects/{p}/items/"
IMPORT = "/api/v1/projects/{p}/import/"
ALL = tuple(UNDER + OVER)
TOO_MANY_MIN = multipart_overhead(MAX_FILES + 1)

SCENARIOS = [
    Scenario("401 no token", "POST", UPLOAD, None, MULTIPART, 401, ALL),
    Scenario("401 bad token", "POST", UPLOAD, "bad", MULTIPART, 401, ALL),
    Scenario("403 role", "POST", UPLOAD, "annotator", MULTIPART, 403, ALL),
    Scenario("404 non-member", "POST", UPLOAD, "outsider", MULTIPART, 404, ALL),
    Scenario(
        "400 too many files",
        "POST",
        UPLOAD,
        "owner",
        MULTIPART,
        400,
        tuple(s for s in ALL if s >= TOO_MANY_MIN and s <= MAX_UPLOAD),
        files=MAX_FILES + 1,
    ),
    Scenario(
        "400 bad body (not JSON)",
        "POST",
        "/api/v1/projects/{p}/tasks/next/",
        "owner",
        "application/json; charset=utf-8",
        400,
        tuple(s for s in ALL if 1 <= s <= MAX_BODY),
    ),
    Scenario(
        "413 upload over the limit",
        "POST",
        UPLOAD,
        "owner",
        MULTIPART,
        413,
        (MAX_UPLOAD + 1, *OVER),
    ),
    Scenario(
        "413 body over DATA_UPLOAD_MAX_MEMORY_SIZE",
        "PATCH",
        "/api/v1/projects/{p}/pipeline/",
        "owner",
        "application/json",
        413,
        (MAX_BODY + 1, GUNICORN_DRAIN * 2 + 1, LIMIT, *OVER),
    ),
    Scenario(
        "413 import over the limit",
        "POST",
        IMPORT,
        "owner",
        MULTIPART,
        413,
        (MAX_IMPORT + 1, LIMIT, *OVER),
    ),
    Scenario("403 COCO import", "POST", IMPORT, "annotator", MULTIPART, 403, ALL),
    Scenario(
        "403 COCO import (JSON)",
        "POST",
        IMPORT,
        "annotator",
        "application/json",
        403,
        ALL,
    ),
    Scenario(
        "401 chunked body", "POST", UPLOAD, None, MULTIPART, 401, ALL, chunked=True
    ),
    Scenario(
        "200 GET ignores its body",
        "GET",
        "/api/v1/projects/{p}/",
        "owner",
        "application/octet-stream",
        200,
        ALL,
    ),
    Scenario(
        "200 HEAD ignores its body",
        "HEAD",
        "/api/v1/projects/{p}/",
        "owner",
        "application/octet-stream",
        200,
        ALL,
    ),
    Scenario(
        "204 empty queue",
        "POST",
        "/api/v1/projects/{p}/tasks/next/",
        "owner",
        "application/json",
        204,
        tuple(s for s in ALL if 17 <= s <= MAX_BODY),
    ),
]


def _chunks(body: bytes, size: int = 16 * KIB):
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_the_next_request_on_the_session_succeeds(server, world, scenario):
    project_id, tokens = world
    url = server.url + scenario.path.format(p=project_id)
    owner = {"Authorization": tokens["owner"]}
    failures = []
    with requests.Session() as session:
        for size in scenario.sizes:
            headers = {"Content-Type": scenario.content_type}
            if scenario.token:
                headers["Authorization"] = tokens[scenario.token]
            body = scenario.body(size)
            data = _chunks(body) if scenario.chunked else body
            try:
                refused = session.request(
                    scenario.method, url, data=data, headers=headers, timeout=20
                )
            except requests.RequestException as exc:
                failures.append(f"{size} B: the request itself failed: {exc!r}")
                continue
            if refused.status_code != scenario.status:
                failures.append(
                    f"{size} B: answered {refused.status_code} "
                    f"{refused.content[:200]!r}, expected {scenario.status}"
                )
            # Within the limits the server reads the rest and keeps the
            # connection; past them it says so before closing.
            expected = "close" if size > LIMIT else "keep-alive"
            if refused.headers.get("Connection") != expected:
                failures.append(
                    f"{size} B: Connection: {refused.headers.get('Connection')}, "
                    f"expected {expected}"
                )
            if scenario.status >= 400 and scenario.method != "HEAD":
                assert refused.headers["Content-Type"].startswith("application/json")
            try:
                after = session.get(
                    server.url + "/api/v1/projects/", headers=owner, timeout=20
                )
            except requests.RequestException as exc:
                failures.append(f"{size} B: the NEXT request failed: {exc!r}")
                continue
            if after.status_code != 200:
                failures.append(f"{size} B: the next request got {after.status_code}")
    assert not failures, "\n".join(failures)
