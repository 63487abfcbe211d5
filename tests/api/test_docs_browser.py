"""The browsable docs in a real browser (Debian's Chromium): Swagger UI, served by the app from
drf-spectacular-sidecar's files, renders the schema under the site's Content-Security-Policy with
nothing refused and nothing fetched from another site."""

from pathlib import Path

import pytest

from tests.web.test_browser import browser  # noqa: F401 (the fixture: Chromium, or a skip without it)

pytestmark = pytest.mark.browser


def test_swagger_ui_renders_the_schema_with_nothing_refused(browser, live_server):  # noqa: F811
    page = browser.new_page()
    complaints, requested = [], []
    page.on("console", lambda message: complaints.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: complaints.append(str(error)))
    page.on("request", lambda request: requested.append(request.url))
    try:
        page.goto(f"{live_server.url}/api/v1/docs/")
        page.wait_for_selector("#operations-deliveries-deliveries_sign_for", timeout=30_000)
        assert page.locator(".info .title").inner_text().startswith("公文流转 API")
        artifacts = Path("test-artifacts/api")
        artifacts.mkdir(parents=True, exist_ok=True)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.screenshot(path=artifacts / "docs-1280.png")
    finally:
        page.close()
    assert complaints == []
    assert len(requested) > 3  # the page, Swagger UI's files, its start-up script, the schema
    assert [url for url in requested if not url.startswith(live_server.url)] == []
