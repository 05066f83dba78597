"""The API docs page in Chromium: members only, every operation rendered, and no
Content-Security-Policy violation under the app's policy."""

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

# Records violations the page itself sees (the console messages cover the rest).
RECORD_VIOLATIONS = """
window.cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
});
"""


def test_api_docs_render_every_operation_under_the_csp(live_server):
    from tests.factories import UserFactory

    UserFactory(username="dev")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        console = []
        page.on("console", lambda m: console.append(f"{m.type}: {m.text}"))
        page.add_init_script(RECORD_VIOLATIONS)

        response = page.goto(f"{live_server.url}/api/docs/")
        assert "/accounts/login/" in page.url, "anonymous users are sent to log in"
        page.fill("input[name=username]", "dev")
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url("**/api/docs/")
        response = page.reload()
        csp = response.headers.get("content-security-policy", "")
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp

        operations = page.locator(".opblock")
        sync_api.expect(operations.first).to_be_visible(timeout=20000)
        claim = page.locator("[id$='-tasks_next']")
        sync_api.expect(claim).to_be_visible()
        count = operations.count()
        # An opened operation renders its schema and highlighted examples too.
        claim.locator(".opblock-summary").first.click()
        sync_api.expect(claim.locator(".opblock-body")).to_be_visible()
        claim.get_by_role("button", name="Try it out").click()
        sync_api.expect(claim.get_by_role("button", name="Execute")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "api_docs.png"))
        violations = page.evaluate("window.cspViolations")
        browser.close()

    assert count >= 25, f"only {count} operations rendered"
    assert violations == [], violations
    csp_messages = [m for m in console if "Content Security Policy" in m]
    assert csp_messages == [], csp_messages
