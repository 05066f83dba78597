"""The label page's Segment tool in Chromium against a live server: shown
disabled (with the reason) without segmentation weights, and with random-init
MobileSAM weights a click goes to the server's one predict and the polygon it
answers is added with the drawing label, undoable."""

import pytest

from tests.browser.chromium import login
from tests.browser.test_label_review import open_task_page, shapes, sync_api, to_page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
expect = sync_api.expect


def world(*, weights=None):
    from alweb.roles import Role
    from models_mgmt.services.segmenter import segmenter_upload
    from tests.factories import UserFactory, add_member, make_project
    from tests.models_mgmt.test_segmenter_api import noise_item

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Seg", labels=["cat", "dog"])
    add_member(project, Role.ANNOTATOR, UserFactory(username="ann"))
    noise_item(project)
    if weights is not None:
        from django.core.files.uploadedfile import SimpleUploadedFile

        upload = SimpleUploadedFile(weights.name, weights.read_bytes())
        segmenter_upload(project=project, actor=owner, upload=upload)
    return project


def test_without_weights_the_tool_is_disabled_and_says_why(browser, live_server):
    project = world()
    page = login(browser, live_server.url, "ann")
    open_task_page(page, f"{live_server.url}/projects/{project.pk}/label/")
    tool = page.get_by_test_id("tool-segment")
    expect(tool).to_be_disabled()
    assert "Models page" in tool.get_attribute("title")
    assert "owner or developer" in tool.get_attribute("title")
    page.get_by_test_id("stage").focus()
    page.keyboard.press("g")
    assert page.evaluate("window.alwebPage.canvas().getTool()") == "box"
    page.keyboard.press("?")
    expect(page.get_by_test_id("key-help")).to_contain_text("segment tool")


@pytest.fixture
def sam_weights(tmp_path):
    from tests.models_mgmt.test_segmenter_api import build_sam_weights

    return build_sam_weights(tmp_path)


@pytest.mark.slow
def test_a_click_adds_the_servers_polygon_with_the_drawing_label(
    browser, live_server, sam_weights
):
    project = world(weights=sam_weights)
    page = login(browser, live_server.url, "ann")
    open_task_page(page, f"{live_server.url}/projects/{project.pk}/label/")
    expect(page.get_by_test_id("tool-segment")).to_be_enabled()
    page.get_by_test_id("stage").focus()
    page.keyboard.press("2")  # drawing label: dog
    page.keyboard.press("g")
    assert page.evaluate("window.alwebPage.canvas().getTool()") == "segment"
    with page.expect_request("**/segment/") as request:
        page.mouse.click(*to_page(page, 80, 60))
    assert request.value.post_data_json["label"] == "dog"
    page.wait_for_function(
        "() => window.alwebPage.canvas().getShapes().length === 1", timeout=60000
    )
    (shape,) = shapes(page)
    assert shape["kind"] == "polygon" and shape["label"] == "dog"
    assert shape["source"] == "human" and len(shape["points"]) >= 3
    assert page.get_by_test_id("canvas-root").get_attribute("data-segmenting") is None
    page.keyboard.press("Control+z")
    assert shapes(page) == []
