"""Uploads through the API: images, zip archives, limits (RELIABILITY C and D)."""

import io
import os
import zipfile

import pytest
from django.conf import settings
from django.urls import reverse

from alweb.roles import Role
from annotate.models import Item
from tests.api.helpers import (
    client_for,
    noise,
    png,
    png_header_only,
    upload_file,
    zip_bytes,
)

pytestmark = pytest.mark.django_db


def _upload(client, project, files):
    url = reverse("api-item-list", args=[project.pk])
    return client.post(url, {"files": files}, format="multipart")


def _stored_files():
    root = settings.MEDIA_ROOT
    found = set()
    for dirpath, _, names in os.walk(root):
        found.update(os.path.join(dirpath, n) for n in names)
    return found


@pytest.fixture
def owner_client(project_roles):
    project, users, _ = project_roles
    return project, client_for(users[Role.OWNER])


def test_upload_images_creates_items_and_reports_duplicates(owner_client):
    project, client = owner_client
    r = _upload(
        client,
        project,
        [
            upload_file("a.png", png(1)),
            upload_file("b.png", png(2)),
            upload_file("a-again.png", png(1)),
        ],
    )
    assert r.status_code == 201, r.data
    assert len(r.data["created"]) == 2
    assert r.data["skipped"] == [
        {"name": "a-again.png", "reason": f"duplicate of item {r.data['created'][0]}"}
    ]
    assert Item.objects.filter(project=project).count() == 2


def test_decompression_bomb_header_is_refused_without_decoding(owner_client):
    project, client = owner_client
    bomb = png_header_only(50_000, 50_000)
    assert len(bomb) < 200
    r = _upload(client, project, [upload_file("bomb.png", bomb)])
    assert r.status_code == 201
    assert r.data["created"] == []
    reason = r.data["skipped"][0]["reason"]
    # Pillow's own guard trips first at 2x its limit (message names the bomb).
    assert "image too large" in reason or "decompression bomb" in reason
    assert not Item.objects.filter(project=project).exists()


def test_image_over_our_pixel_limit_but_under_pillows_is_refused(owner_client):
    project, client = owner_client
    r = _upload(
        client, project, [upload_file("big.png", png_header_only(12_000, 12_000))]
    )
    assert r.data["created"] == []
    assert r.data["skipped"][0]["reason"].startswith("image too large (144.0 MP >")


def test_corrupt_files_in_a_batch_leave_the_good_ones_and_no_orphans(owner_client):
    project, client = owner_client
    good = [upload_file(f"g{i}.png", png(100 + i)) for i in range(20)]
    jpeg = io.BytesIO()
    from PIL import Image

    Image.new("RGB", (64, 64), "red").save(jpeg, "JPEG")
    bad = [
        upload_file("zero.jpg", b""),
        upload_file("truncated.jpg", jpeg.getvalue()[:200]),
        upload_file("random.png", noise(2048, seed=1)),
        upload_file("page.jpg", b"<html><script>alert(1)</script></html>"),
    ]
    files_before = _stored_files()
    r = _upload(client, project, good[:10] + bad + good[10:])
    assert r.status_code == 201
    assert len(r.data["created"]) == 20
    assert {s["name"] for s in r.data["skipped"]} == {
        "zero.jpg",
        "truncated.jpg",
        "random.png",
        "page.jpg",
    }
    assert all(s["reason"] for s in r.data["skipped"])
    assert Item.objects.filter(project=project).count() == 20
    # two files (image + thumbnail) per created item, nothing else
    assert len(_stored_files() - files_before) == 40


@pytest.mark.parametrize(
    ("name", "content_type"),
    [("x.html", "text/html"), ("x.svg", "image/svg+xml"), ("x.png", "text/html")],
)
def test_polyglot_is_stored_under_generated_name_and_served_as_image(
    owner_client, name, content_type
):
    project, client = owner_client
    polyglot = png(5) + b"<html><script>alert(1)</script></html>"
    r = _upload(client, project, [upload_file(name, polyglot, content_type)])
    assert r.status_code == 201 and len(r.data["created"]) == 1
    item = Item.objects.get(pk=r.data["created"][0])
    base = os.path.basename(item.file.name)
    assert base.endswith(".png") and len(base) == 36
    image = client.get(reverse("api-item-image", args=[item.pk]))
    assert image["Content-Type"] == "image/png"
    assert image["X-Content-Type-Options"] == "nosniff"


def test_svg_with_script_is_refused(owner_client):
    project, client = owner_client
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    r = _upload(client, project, [upload_file("x.svg", svg, "image/svg+xml")])
    assert r.data["created"] == [] and "not an image" in r.data["skipped"][0]["reason"]


@pytest.mark.parametrize(
    "name",
    [
        "../../settings.py.png",
        "/etc/passwd.png",
        "a\\..\\..\\x.png",
        "n" * 300 + ".png",
        "bad\x00name.png",
        "evil\u202egnp.exe.png",
        "CON.png",
    ],
)
def test_hostile_filenames_are_display_text_only(owner_client, name):
    project, client = owner_client
    r = _upload(client, project, [upload_file(name, png(len(name)))])
    assert r.status_code == 201
    if not r.data["created"]:  # Django may refuse some names outright
        return
    item = Item.objects.get(pk=r.data["created"][0])
    path = os.path.realpath(item.file.path)
    assert path.startswith(os.path.realpath(settings.MEDIA_ROOT) + os.sep)
    assert ".." not in item.file.name and "/" not in item.original_name
    assert "\x00" not in item.original_name and "\u202e" not in item.original_name
    assert len(item.original_name) <= 255


def test_more_files_than_the_limit_is_400(owner_client):
    project, client = owner_client
    files = [upload_file(f"f{i}.png", b"x") for i in range(101)]
    r = _upload(client, project, files)
    assert r.status_code == 400
    assert "files" in r.json()
    assert not Item.objects.filter(project=project).exists()


def test_request_over_the_size_limit_is_413(owner_client, settings):
    project, client = owner_client
    settings.ALWEB_MAX_UPLOAD_BYTES = 10_000
    r = _upload(client, project, [upload_file("big.png", noise(20_000, seed=2))])
    assert r.status_code == 413
    assert not Item.objects.filter(project=project).exists()


def test_upload_without_files_is_400(owner_client):
    project, client = owner_client
    r = client.post(reverse("api-item-list", args=[project.pk]), {}, format="json")
    assert r.status_code == 400 and "files" in r.json()


def test_zip_of_images_is_imported(owner_client):
    project, client = owner_client
    archive = zip_bytes({"a.png": png(1), "dir/b.png": png(2), "readme.txt": b"hi"})
    r = _upload(client, project, [upload_file("batch.zip", archive)])
    assert len(r.data["created"]) == 2
    assert [s["name"] for s in r.data["skipped"]] == ["batch.zip:readme.txt"]
    names = set(Item.objects.values_list("original_name", flat=True))
    assert names == {"a.png", "b.png"}


def test_zip_slip_members_never_become_paths(owner_client, tmp_path):
    project, client = owner_client
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for i, name in enumerate(
            ["../evil.png", "/abs/x.png", "ok/../../x.png", "a\\..\\y.png"]
        ):
            zf.writestr(name, png(10 + i))
        link = zipfile.ZipInfo("link.png")
        link.external_attr = (0o120777) << 16
        zf.writestr(link, "/etc/passwd")
    r = _upload(client, project, [upload_file("slip.zip", buf.getvalue())])
    assert len(r.data["created"]) == 4
    assert r.data["skipped"] == [
        {"name": "slip.zip:link.png", "reason": "symbolic link refused"}
    ]
    for item in Item.objects.filter(project=project):
        assert os.path.realpath(item.file.path).startswith(
            os.path.realpath(settings.MEDIA_ROOT)
        )
        assert "/" not in item.original_name and ".." not in item.original_name


def test_zip_bomb_by_ratio_is_refused_before_extraction(owner_client):
    project, client = owner_client
    bomb = zip_bytes({"zeros.png": b"\x00" * (50 * 1024 * 1024)})
    assert len(bomb) < 100_000
    r = _upload(client, project, [upload_file("bomb.zip", bomb)])
    assert r.data["created"] == []
    assert "ratio" in r.data["skipped"][0]["reason"]


def test_zip_with_too_many_entries_is_refused(owner_client, settings):
    project, client = owner_client
    settings.ALWEB_MAX_ZIP_ENTRIES = 50
    archive = zip_bytes({f"{i}.txt": b"" for i in range(51)})
    r = _upload(client, project, [upload_file("many.zip", archive)])
    assert r.data["skipped"][0]["reason"].startswith("too many entries")


def _encrypted_zip() -> bytes:
    """A one-member zip whose member is flagged encrypted (traditional PKWARE)."""
    data = bytearray(zip_bytes({"secret.png": png(6)}, zipfile.ZIP_STORED))
    local = data.find(b"PK\x03\x04")
    central = data.find(b"PK\x01\x02")
    data[local + 6] |= 0x1
    data[central + 8] |= 0x1
    return bytes(data)


def test_nested_zip_and_encrypted_members_are_listed(owner_client):
    project, client = owner_client
    inner = zip_bytes({"a.png": png(1)})
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("inner.zip", inner)
        zf.writestr("disguised.png", inner)
        zf.writestr("ok.png", png(3))
    r = _upload(
        client,
        project,
        [
            upload_file("outer.zip", buf.getvalue()),
            upload_file("enc.zip", _encrypted_zip()),
        ],
    )
    reasons = {s["name"]: s["reason"] for s in r.data["skipped"]}
    assert len(r.data["created"]) == 1
    assert reasons["outer.zip:inner.zip"] == "nested archive refused"
    assert reasons["outer.zip:disguised.png"] == "nested archive refused"
    assert reasons["enc.zip:secret.png"] == "encrypted member refused"


def test_member_whose_declared_size_lies_is_refused(owner_client):
    project, client = owner_client
    data = png(4)
    archive = bytearray(zip_bytes({"liar.png": data}, zipfile.ZIP_STORED))
    # Shrink the declared size in the central directory and the local header.
    real = len(data).to_bytes(4, "little")
    fake = (len(data) // 2).to_bytes(4, "little")
    archive = bytes(archive).replace(real + real, fake + fake)
    r = _upload(client, project, [upload_file("liar.zip", archive)])
    assert r.status_code == 201
    assert r.data["created"] == []
    assert r.data["skipped"]


@pytest.mark.parametrize(
    "payload",
    [
        zip_bytes({"a.png": png(1)})[:-30],  # truncated
        b"\x1f\x8b\x08\x00" + noise(200, seed=3),  # .tar.gz renamed .zip
        zip_bytes({}),  # empty
        zip_bytes({"notes.txt": b"no images"}),
    ],
)
def test_broken_archives_answer_with_a_reason(owner_client, payload):
    project, client = owner_client
    r = _upload(client, project, [upload_file("broken.zip", payload)])
    assert r.status_code == 201
    assert r.data["created"] == [] and r.data["skipped"]
    assert not Item.objects.filter(project=project).exists()


def test_token_auth_and_session_csrf(project_roles):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    project, users, _ = project_roles
    owner = users[Role.OWNER]
    token = Token.objects.create(user=owner)
    url = reverse("api-item-list", args=[project.pk])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    r = client.post(url, {"files": [upload_file("t.png", png(7))]}, format="multipart")
    assert r.status_code == 201
    session = APIClient(enforce_csrf_checks=True)
    session.force_login(owner)
    r = session.post(url, {"files": [upload_file("s.png", png(8))]}, format="multipart")
    assert r.status_code == 403
    assert session.get(url).status_code == 200
