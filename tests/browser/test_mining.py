"""Similar-item mining in Chromium: the item page's "Find similar", two results
checked and sent to labelling, and the item browser showing them first with
the reason."""

import shutil
from pathlib import Path

import pytest

from tests.browser.chromium import login

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"


def test_find_similar_then_send_two_to_labelling(browser, live_server):
    from alweb.roles import Role
    from annotate.models import Item
    from tests.factories import UserFactory, add_member, make_items, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Mining")
    add_member(project, Role.ANNOTATION_MANAGER, UserFactory(username="mgr"))
    source, *pool = make_items(project, 5)
    vectors = [[1.0, 0.0], [0.0, 1.0], [1.0, 0.05], [1.0, 0.3], [0.2, 1.0]]
    for item, vector in zip([source, *pool], vectors, strict=True):
        Item.objects.filter(pk=item.pk).update(embedding=vector)
    nearest, second = pool[1], pool[2]  # [1, 0.05] then [1, 0.3]
    base = live_server.url
    expect = sync_api.expect

    page = login(browser, base, "mgr")
    errors = page.errors

    page.goto(f"{base}/projects/{project.pk}/items/{source.pk}/")
    page.get_by_test_id("find-similar").click()
    page.wait_for_url("**/items/similar/**")
    results = page.get_by_test_id("similar-results").locator("li.thumb")
    expect(results).to_have_count(4)
    expect(results.first).to_have_attribute("data-testid", f"similar-{nearest.pk}")
    expect(page.get_by_test_id(f"distance-{nearest.pk}")).to_contain_text("distance")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "mining_1_similar.png"), full_page=True)
    page.get_by_test_id(f"pick-{nearest.pk}").check()
    page.get_by_test_id(f"pick-{second.pk}").check()
    page.get_by_test_id("similar-send").click()
    page.wait_for_url("**/items/?status=unlabeled&ordering=-priority")
    grid = page.get_by_test_id("item-grid").locator("li.thumb")
    expect(grid.nth(0)).to_have_attribute("data-testid", f"item-{nearest.pk}")
    expect(grid.nth(1)).to_have_attribute("data-testid", f"item-{second.pk}")
    expect(grid.nth(0).get_by_test_id("item-why")).to_contain_text(
        f"similar to item {source.pk}"
    )
    expect(page.locator(".messages")).to_contain_text("Sent to labelling first: 2")
    page.screenshot(path=str(ARTIFACTS / "mining_2_queue.png"), full_page=True)
    assert errors == []
    page.context.close()
