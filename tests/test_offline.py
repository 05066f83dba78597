"""The app makes no outbound network connection: loopback only.

The guard (tests/network_guard.py) is on for every test through the autouse
`no_network` fixture; these tests check the guard itself and then walk every
page with it.
"""

import errno
import socket
import textwrap
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from annotate.demo_data import DEMO_LABELS
from annotate.models import Item, ItemStatus, Project
from tests import network_guard

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]


def test_the_guard_blocks_and_records_outbound_connections():
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(OSError) as exc:
            sock.connect(("203.0.113.7", 80))
        assert exc.value.errno == errno.ENETUNREACH
        assert sock.connect_ex(("203.0.113.7", 81)) == errno.ENETUNREACH
    finally:
        sock.close()
    with pytest.raises(socket.gaierror):
        socket.getaddrinfo("example.com", 443)
    with pytest.raises(socket.gaierror):
        socket.gethostbyname("example.org")
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        with pytest.raises(OSError):
            udp.sendto(b"x", ("198.51.100.1", 53))
        with pytest.raises(OSError):
            udp.sendmsg([b"x"], [], 0, ("198.51.100.2", 53))
    finally:
        udp.close()
    recorded = network_guard.take()  # taken here, so this test's teardown passes
    for target in [
        "203.0.113.7', 80",
        "203.0.113.7', 81",
        "example.com",
        "example.org",
        "198.51.100.1",
        "198.51.100.2",
    ]:
        assert any(target in line for line in recorded), (target, recorded)
    assert len(recorded) == 6


def test_loopback_and_unix_sockets_stay_allowed():
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        for host in ("127.0.0.1", "localhost"):
            with socket.create_connection((host, server.getsockname()[1])):
                server.accept()[0].close()
    finally:
        server.close()
    assert socket.getaddrinfo("localhost", 80)
    assert socket.gethostbyname("127.0.0.5") == "127.0.0.5"
    assert socket.getaddrinfo(None, 0, socket.AF_INET, 0, 0, socket.AI_PASSIVE)
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        udp.sendto(b"x", ("127.0.0.1", 9))
    finally:
        udp.close()
    a, b = socket.socketpair(socket.AF_UNIX)
    a.sendall(b"ok")
    assert b.recv(2) == b"ok"
    a.close()
    b.close()
    assert network_guard.pending() == []


def test_a_swallowed_attempt_still_fails_the_test_at_teardown(pytester):
    """What a library does (ultralytics' is_online catches the error) cannot
    hide an attempt: the inner test passes its body and errors at teardown."""
    pytester.makeconftest(
        f"import sys\nsys.path.insert(0, {str(ROOT)!r})\n"
        "from tests.conftest import no_network, pytest_sessionfinish  # noqa: F401\n"
    )
    pytester.makepyfile(
        textwrap.dedent(
            """
            import socket

            def swallow(call, *args):
                try:
                    call(*args)
                except OSError:
                    pass

            def test_tcp():
                swallow(socket.create_connection, ("203.0.113.9", 80), 1)

            def test_dns():
                swallow(socket.getaddrinfo, "one.one.one.one", 0)

            def test_udp():
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                swallow(s.sendto, b"x", ("198.51.100.9", 53))
                s.close()

            def test_loopback_only():
                socket.getaddrinfo("localhost", 0)

            def test_undoing_the_guard():
                from tests import network_guard

                socket.socket.connect = network_guard._REAL["connect"]
            """
        )
    )
    result = pytester.runpytest_subprocess(
        "-p", "no:django", "-p", "no:cacheprovider", "-p", "no:socket"
    )
    result.assert_outcomes(passed=5, errors=4)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_tcp*",
            "outbound network attempted (blocked):",
            "*socket.getaddrinfo('203.0.113.9')*",
            "*ERROR at teardown of test_dns*",
            "*socket.getaddrinfo('one.one.one.one')*",
            "*ERROR at teardown of test_udp*",
            "*socket.sendto(('198.51.100.9', 53))*",
            "*ERROR at teardown of test_undoing_the_guard*",
            "*the network guard was removed during the test: ?'connect'?",
        ]
    )
    assert "test_loopback_only" not in "\n".join(
        line for line in result.stdout.lines if "ERROR" in line
    )


@pytest.mark.django_db
def test_demo_and_every_page_work_without_network(client):
    call_command("demo", items=12, approved=6)
    project = Project.objects.get()
    item = Item.objects.filter(project=project).first()
    client.login(username="owner", password="alweb-demo")
    urls = [
        reverse("annotate:project-list"),
        reverse("annotate:project-detail", args=[project.pk]),
        reverse("annotate:project-items", args=[project.pk]),
        reverse("models_mgmt:project-settings", args=[project.pk]),
        reverse("annotate:project-members", args=[project.pk]),
        reverse("annotate:project-upload", args=[project.pk]),
        reverse("models_mgmt:models", args=[project.pk]),
        reverse("annotate:item-image", args=[item.pk]),
        reverse("annotate:item-thumbnail", args=[item.pk]),
        "/api/schema/",
        "/api/docs/",
    ]
    for url in urls:
        assert client.get(url).status_code == 200, url


@pytest.mark.django_db
def test_label_review_and_upload_flow_and_its_images_work_without_network(client):
    from tests.api.helpers import png, upload_file

    call_command("demo", items=8, approved=4)
    project = Project.objects.get()

    client.login(username="manager", password="alweb-demo")
    upload = reverse("annotate:project-upload", args=[project.pk])
    response = client.post(upload, {"files": [upload_file("new.png", png(7))]})
    assert response.status_code == 200 and response.context["report"]
    new = Item.objects.get(project=project, original_name="new.png")
    for name in ("annotate:item-image", "annotate:item-thumbnail"):
        image = client.get(reverse(name, args=[new.pk]))
        assert image.status_code == 200 and b"".join(image.streaming_content)

    client.login(username="annotator", password="alweb-demo")
    label_url = reverse("annotate:label", args=[project.pk])
    assert client.post(label_url).status_code == 302  # the claim is a POST
    page = client.get(label_url)
    assert page.status_code == 200
    task = page.context["page_config"]["task"]
    assert task is not None, "the label page shows no claimed task"
    image = client.get(task["item"]["image_url"])
    assert image.status_code == 200 and b"".join(image.streaming_content)
    box = {"kind": "box", "label": DEMO_LABELS[0], "bbox": [2, 2, 20, 20]}
    submitted = client.post(
        f"/api/v1/tasks/{task['id']}/submit/",
        {"annotations": [box]},
        content_type="application/json",
    )
    assert submitted.status_code == 200, submitted.content
    assert Item.objects.get(pk=task["item"]["id"]).status == ItemStatus.REVIEW

    client.login(username="reviewer", password="alweb-demo")
    review_url = reverse("annotate:review", args=[project.pk])
    assert client.post(review_url).status_code == 302
    page = client.get(review_url)
    assert page.status_code == 200
    review = page.context["page_config"]["task"]
    assert review is not None and review["item"]["id"] == task["item"]["id"]
    image = client.get(review["item"]["image_url"])
    assert image.status_code == 200 and b"".join(image.streaming_content)
