"""Accounts from the members page (a password shown once, or an invite link that
works once and expires), the invite API, and the user's own API token page."""

import re
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.test import Client
from django.urls import reverse
from rest_framework.authtoken.models import Token

from alweb.roles import Role
from annotate.models import Event, Membership
from tests.api.helpers import client_for
from tests.factories import UserFactory, add_member, make_project

pytestmark = pytest.mark.django_db
User = get_user_model()


def _members_url(project):
    return reverse("annotate:project-members", args=[project.pk])


def _create(client, project, username, role="annotator", access="invite"):
    return client.post(
        _members_url(project),
        {
            "action": "create",
            "new_username": username,
            "new_role": role,
            "access": access,
        },
    )


def _invite_path(response) -> str:
    body = response.content.decode()
    url = re.search(r'value="(http[^"]+/accounts/invite/[^"]+/)"', body).group(1)
    return url.split("testserver", 1)[1]


@pytest.fixture
def owner_client(client, project_roles):
    project, users, _ = project_roles
    client.force_login(users[Role.OWNER])
    return client, project


def test_owner_creates_an_account_with_a_password_shown_once(owner_client):
    client, project = owner_client
    response = _create(client, project, "carol", role="reviewer", access="password")
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    password = re.search(
        r'data-testid="new-password">([^<]+)<', response.content.decode()
    ).group(1)
    carol = User.objects.get(username="carol")
    assert Membership.objects.get(project=project, user=carol).role == "reviewer"
    assert Event.objects.filter(project=project, verb="account_created").exists()
    # Shown once: the next view of the page does not have it.
    assert password not in client.get(_members_url(project)).content.decode()
    other = client_for(None)
    assert other.login(username="carol", password=password)


def test_an_invite_link_sets_the_password_once_and_keeps_what_was_typed(
    owner_client,
):
    client, project = owner_client
    response = _create(client, project, "dave")
    assert response.status_code == 200 and "no-store" in response["Cache-Control"]
    path = _invite_path(response)
    dave = User.objects.get(username="dave")
    assert not dave.has_usable_password()
    page = Client()  # the invitee, not logged in
    assert page.get(path).status_code == 200

    weak = page.post(path, {"new_password1": "123", "new_password2": "123"})
    assert weak.status_code == 400
    body = weak.content.decode()
    assert "too short" in body and "entirely numeric" in body
    assert 'value="123"' in body  # what was typed stays in the form
    dave.refresh_from_db()
    assert not dave.has_usable_password()

    typed = {"new_password1": "kite-orbit-93x", "new_password2": "kite-orbit-94x"}
    mismatch = page.post(path, typed)
    assert mismatch.status_code == 400 and "didn’t match" in mismatch.content.decode()

    good = {"new_password1": "kite-orbit-93x", "new_password2": "kite-orbit-93x"}
    accepted = page.post(path, good)
    assert accepted.status_code == 302
    detail = page.get(reverse("annotate:project-detail", args=[project.pk]))
    assert detail.status_code == 200  # logged in, and a member
    assert page.get(reverse("annotate:project-list")).status_code == 200
    dave.refresh_from_db()
    assert dave.check_password("kite-orbit-93x")
    # Used: the same link answers 400 and changes nothing.
    again = client_for(None).post(
        path, {"new_password1": "other-pass-77q", "new_password2": "other-pass-77q"}
    )
    assert again.status_code == 400
    assert "does not work" in again.content.decode()
    dave.refresh_from_db()
    assert dave.check_password("kite-orbit-93x")


def test_an_invite_link_expires(owner_client, monkeypatch, settings):
    client, project = owner_client
    path = _invite_path(_create(client, project, "erin"))
    assert client_for(None).get(path).status_code == 200
    later = time.time() + settings.ALWEB_INVITE_MAX_AGE_SECONDS + 5
    monkeypatch.setattr(signing.time, "time", lambda: later)
    response = client_for(None).get(path)
    assert response.status_code == 400 and "expired" in response.content.decode()


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "nonsense",
        lambda t: "x" * 3000,
    ],
)
def test_a_forged_invite_link_answers_400(owner_client, mangle):
    client, project = owner_client
    path = _invite_path(_create(client, project, "frank"))
    token = path.rstrip("/").rsplit("/", 1)[1]
    forged = reverse("invite-accept", args=[mangle(token)])
    assert client_for(None).get(forged).status_code == 400
    response = client_for(None).post(
        forged, {"new_password1": "kite-orbit-93x", "new_password2": "kite-orbit-93x"}
    )
    assert response.status_code == 400
    assert not User.objects.get(username="frank").has_usable_password()


@pytest.mark.parametrize(
    ("username", "role", "field_error"),
    [
        ("bad name!", "annotator", "valid username"),
        ("OWNER1", "annotator", "exists"),  # owner1 exists: case variants too
        ("x" * 151, "annotator", "at most 150"),
        ("gina", "", "required"),  # the role is chosen, never a default
        ("gina", "superuser", "valid choice"),
    ],
)
def test_bad_account_input_keeps_what_was_typed_and_creates_nothing(
    owner_client, username, role, field_error
):
    client, project = owner_client
    users, members = User.objects.count(), Membership.objects.count()
    response = _create(client, project, username, role=role)
    assert response.status_code == 400
    body = response.content.decode()
    assert field_error in body
    assert f'value="{username}"' in body
    assert (User.objects.count(), Membership.objects.count()) == (users, members)


def test_the_role_fields_do_not_default_to_owner(owner_client):
    client, project = owner_client
    body = client.get(_members_url(project)).content.decode()
    for name in ("role", "new_role"):
        select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S)
        first = re.search(r"<option[^>]*>", select.group(1)).group(0)
        assert 'value=""' in first, first
        assert "selected" not in select.group(1).split('value="owner"')[1][:12]


def test_a_manager_without_the_member_permission_creates_no_account(
    client, project_roles
):
    project, users, _ = project_roles
    client.force_login(users[Role.DEVELOPER])
    response = _create(client, project, "henry")
    assert response.status_code == 403
    assert not User.objects.filter(username="henry").exists()


def test_a_new_invite_link_replaces_the_old_one(owner_client):
    client, project = owner_client
    first = _invite_path(_create(client, project, "ivy"))
    ivy = User.objects.get(username="ivy")
    renewed = client.post(
        _members_url(project), {"action": "reinvite", "user_id": ivy.pk}
    )
    assert renewed.status_code == 200
    second = _invite_path(renewed)
    assert client_for(None).get(first).status_code == 400
    assert client_for(None).get(second).status_code == 200


def test_no_new_invite_for_an_account_of_another_project_or_with_a_password(
    owner_client, other_project
):
    client, project = owner_client
    _create(client, project, "jack")
    jack = User.objects.get(username="jack")
    add_member(other_project, Role.ANNOTATOR, jack)
    before = jack.password
    response = client.post(
        _members_url(project), {"action": "reinvite", "user_id": jack.pk}
    )
    assert response.status_code == 403
    assert "other projects" in response.content.decode()
    jack.refresh_from_db()
    assert jack.password == before
    member = add_member(project, Role.ANNOTATOR, UserFactory(username="kate"))
    response = client.post(
        _members_url(project), {"action": "reinvite", "user_id": member.pk}
    )
    assert response.status_code == 400
    assert "set its password already" in response.content.decode()


def test_the_invite_api_answers_201_with_a_link_that_works(project_roles):
    project, users, _ = project_roles
    api = client_for(users[Role.OWNER])
    url = reverse("api-invite-create", args=[project.pk])
    response = api.post(url, {"username": "liam", "role": "reviewer"}, format="json")
    assert response.status_code == 201, response.data
    assert response["Cache-Control"] == "no-store"
    body = response.json()
    assert set(body) == {"user_id", "username", "role", "invite_url", "expires_at"}
    assert body["role"] == "reviewer" and body["username"] == "liam"
    path = body["invite_url"].split("testserver", 1)[1]
    good = {"new_password1": "kite-orbit-93x", "new_password2": "kite-orbit-93x"}
    assert client_for(None).post(path, good).status_code == 302
    assert User.objects.get(username="liam").check_password("kite-orbit-93x")

    taken = api.post(url, {"username": "Liam", "role": "reviewer"}, format="json")
    assert taken.status_code == 400 and "username" in taken.json()
    bad_role = api.post(url, {"username": "mia", "role": "owner!"}, format="json")
    assert bad_role.status_code == 400 and "role" in bad_role.json()
    bad_name = api.post(url, {"username": "m i a", "role": "owner"}, format="json")
    assert bad_name.status_code == 400 and "username" in bad_name.json()
    assert not User.objects.filter(username__in=["mia", "m i a"]).exists()


# The API token page -------------------------------------------------------------


def _api_status(key: str | None) -> int:
    api = client_for(None)
    headers = {"HTTP_AUTHORIZATION": f"Token {key}"} if key else {}
    return api.get(reverse("api-project-list"), **headers).status_code


def _make_key(client, password="pw-for-tests-1"):
    response = client.post(
        reverse("account-token"), {"action": "create", "password": password}
    )
    found = re.search(r'value="([0-9a-f]{40})"', response.content.decode())
    return response, found.group(1) if found else None


def test_a_token_made_on_the_page_works_and_a_revoked_one_gets_401(client):
    user = UserFactory(username="tess")
    project = make_project(user, name="Tokens")
    client.force_login(user)
    page = client.get(reverse("account-token"))
    assert page.status_code == 200 and "no API token" in page.content.decode()

    response, key = _make_key(client)
    assert response.status_code == 200 and key
    assert "no-store" in response["Cache-Control"]
    assert _api_status(key) == 200
    api = client_for(None)
    listed = api.get(reverse("api-project-list"), HTTP_AUTHORIZATION=f"Token {key}")
    assert [p["id"] for p in listed.json()["results"]] == [project.pk]
    again = client.get(reverse("account-token")).content.decode()
    assert "You have a token" in again and key not in again  # shown once

    _, new_key = _make_key(client)  # a new key replaces the old one
    assert new_key != key
    assert _api_status(key) == 401 and _api_status(new_key) == 200

    revoked = client.post(reverse("account-token"), {"action": "revoke"})
    assert revoked.status_code == 302
    assert _api_status(new_key) == 401
    assert not Token.objects.filter(user=user).exists()


def test_a_token_needs_the_password_and_bad_input_changes_nothing(client):
    user = UserFactory(username="uma")
    client.force_login(user)
    response, key = _make_key(client, password="wrong")
    assert response.status_code == 400 and key is None
    assert "wrong password" in response.content.decode()
    response, key = _make_key(client, password="")
    assert response.status_code == 400 and "enter your password" in (
        response.content.decode()
    )
    odd = client.post(reverse("account-token"), {"action": "steal"})
    assert odd.status_code == 400
    assert not Token.objects.filter(user=user).exists()


def test_the_token_page_password_check_shares_the_login_lock(client, settings):
    settings.LOGIN_MAX_FAILURES = 2
    user = UserFactory(username="vic")
    client.force_login(user)
    for _ in range(2):
        assert _make_key(client, password="wrong")[0].status_code == 400
    response, key = _make_key(client)  # the right password, but locked now
    assert response.status_code == 400 and key is None
    assert "too many failed attempts" in response.content.decode()


def test_the_token_page_is_for_signed_in_users(client):
    response = client.get(reverse("account-token"))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
