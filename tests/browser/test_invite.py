"""The invite flow in Chromium: the owner creates an account with an invite link on
the members page; the invitee opens it, is refused a weak password (what was
typed stays), sets a good one and lands in the project; the link then fails.
The new member makes an API token on their account page; the owner removes
them (after a confirmation)."""

import os
import shutil
from pathlib import Path

import pytest

from tests.browser.chromium import launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_owner_invites_and_the_invitee_sets_a_password_and_gets_a_token(
    live_server,
):
    from django.contrib.auth import get_user_model

    from annotate.models import Membership
    from tests.factories import UserFactory, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Invites")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    ARTIFACTS.mkdir(exist_ok=True)
    members = f"{live_server.url}/projects/{project.pk}/members/"
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        page.goto(members)
        page.fill("input[name=username]", "owner")
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url(members)

        form = page.get_by_test_id("account-form")
        form.locator("input[name=new_username]").fill("nora")
        form.locator("select[name=new_role]").select_option("reviewer")
        form.locator("input[value=invite]").check()
        page.get_by_test_id("account-create").click()
        link = page.get_by_test_id("invite-url")
        sync_api.expect(link).to_be_visible()
        invite = link.input_value()
        assert "/accounts/invite/" in invite
        sync_api.expect(page.get_by_test_id("member-nora")).to_contain_text(
            "invited, no password yet"
        )
        page.screenshot(path=str(ARTIFACTS / "members_invite.png"), full_page=True)

        guest = browser.new_context().new_page()  # the invitee's own browser
        guest.goto(invite)
        guest.fill("input[name=new_password1]", "12345678")
        guest.fill("input[name=new_password2]", "12345678")
        guest.get_by_test_id("invite-submit").click()
        sync_api.expect(guest.locator("body")).to_contain_text("entirely numeric")
        assert guest.input_value("input[name=new_password1]") == "12345678"
        guest.screenshot(path=str(ARTIFACTS / "invite_refused.png"), full_page=True)
        guest.fill("input[name=new_password1]", "lantern-quiet-58")
        guest.fill("input[name=new_password2]", "lantern-quiet-58")
        guest.get_by_test_id("invite-submit").click()
        guest.wait_for_url(f"{live_server.url}/projects/")
        sync_api.expect(guest.get_by_test_id("whoami")).to_contain_text("nora")
        sync_api.expect(guest.locator("main")).to_contain_text("Invites")

        guest.get_by_test_id("account-token-link").click()
        sync_api.expect(guest.get_by_test_id("token-status")).to_contain_text(
            "no API token"
        )
        guest.fill("input[name=password]", "lantern-quiet-58")
        guest.get_by_test_id("token-create").click()
        key = guest.get_by_test_id("token-key").input_value()
        assert len(key) == 40

        again = browser.new_context().new_page()
        again.goto(invite)
        sync_api.expect(again.get_by_test_id("invite-invalid")).to_be_visible()

        nora = get_user_model().objects.get(username="nora")
        assert nora.check_password("lantern-quiet-58")
        assert Membership.objects.get(project=project, user=nora).role == "reviewer"
        # Removing asks first: cancelled, nothing changes; confirmed, she is gone.
        page.goto(members)
        asked = []
        page.once("dialog", lambda d: (asked.append(d.message), d.dismiss()))
        page.get_by_test_id("remove-nora").click()
        page.wait_for_timeout(300)
        assert asked and "Remove nora" in asked[0]
        assert Membership.objects.filter(project=project, user=nora).exists()
        page.once("dialog", lambda d: d.accept())
        page.get_by_test_id("remove-nora").click()
        sync_api.expect(page.locator("main")).to_contain_text("nora removed.")
        browser.close()
    assert not Membership.objects.filter(project=project, user=nora).exists()
