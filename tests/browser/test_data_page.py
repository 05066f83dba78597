"""The data page in Chromium: a small export downloads at once (COCO also with
its images, as a zip); a large one runs in the background, the bar follows it
and the file downloads when it is ready; an import shows its report. No request
of the page fails."""

import json
import os
import shutil
import zipfile

import pytest

from tests.browser.chromium import launch_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

if shutil.which("chromium") is None:
    pytest.skip("Debian chromium is not installed", allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api")


def test_export_downloads_small_and_background_exports_and_import_reports(
    live_server, settings, tmp_path
):
    from alweb.roles import Role
    from tests.api.test_io import make_ground_truth
    from tests.factories import UserFactory, add_member, make_project

    owner = UserFactory(username="owner")
    project = make_project(owner, name="Data")
    add_member(project, Role.OWNER, owner)
    make_ground_truth(project)
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_api.sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page(accept_downloads=True)
        failed = []  # the page's own requests that failed (favicon aside)
        page.on(
            "response",
            lambda r: (
                r.status >= 400
                and not r.url.endswith("/favicon.ico")
                and failed.append(f"{r.status} {r.url}")
            ),
        )
        page.goto(f"{live_server.url}/projects/{project.pk}/data/")
        page.fill("input[name=username]", "owner")
        page.fill("input[name=password]", "pw-for-tests-1")
        page.click("button[type=submit]")
        page.wait_for_url(f"**/projects/{project.pk}/data/")

        with page.expect_download() as small:
            page.get_by_test_id("export-submit").click()
        path = tmp_path / "small.json"
        small.value.save_as(path)
        assert len(json.loads(path.read_text())["images"]) == 6

        page.get_by_test_id("export-images").check()
        with page.expect_download() as with_images:
            page.get_by_test_id("export-submit").click()
        assert with_images.value.suggested_filename == f"project-{project.pk}-coco.zip"
        with zipfile.ZipFile(with_images.value.path()) as zf:
            names = zf.namelist()
            doc = json.loads(zf.read("annotations.json"))
        assert sorted(names) == sorted(
            ["annotations.json", *(f"images/{i['file_name']}" for i in doc["images"])]
        )
        page.get_by_test_id("export-images").uncheck()

        settings.ALWEB_EXPORT_SYNC_MAX_ITEMS = 2
        page.get_by_test_id("export-format").select_option("voc")
        with page.expect_download() as large:
            page.get_by_test_id("export-submit").click()
        assert large.value.suggested_filename == f"project-{project.pk}.zip"
        bar = page.get_by_test_id("export-progress")
        sync_api.expect(bar).to_be_visible()
        assert bar.evaluate("b => b.value") == 1
        page.reload()
        sync_api.expect(page.get_by_test_id("past-exports")).to_contain_text("voc")

        page.get_by_test_id("import-file").set_input_files(str(path))
        page.get_by_test_id("import-submit").click()
        sync_api.expect(page.get_by_test_id("import-report")).to_contain_text(
            "small.json: 6 items"
        )
        browser.close()
    assert not failed, failed
