"""The OpenAPI 3.1 schema: served, checked in (openapi.yaml) and equal to what the code generates,
and its browsable docs served by the app itself under the site's Content-Security-Policy."""

import io
import re
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command

CHECKED_IN = Path(settings.BASE_DIR) / "openapi.yaml"


def test_the_checked_in_schema_is_the_one_the_code_generates(db):
    generated = io.StringIO()
    call_command("spectacular", "--lang", "zh-hans", "--validate", "--fail-on-warn", stdout=generated)
    assert CHECKED_IN.read_text(encoding="utf-8") == generated.getvalue(), (
        "openapi.yaml differs from the schema the code generates: run `make openapi` and commit openapi.yaml"
    )


def test_the_schema_is_served_as_openapi_3_1(client, db):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    assert response.content.decode().startswith("openapi: 3.1.0\n")
    as_json = client.get("/api/v1/schema/?format=json").json()
    assert as_json["openapi"] == "3.1.0"
    assert as_json["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    assert as_json["paths"]["/api/v1/units"]["get"]["security"] == [{"bearer": ["read"]}]


def test_the_docs_page_needs_no_cdn_and_no_inline_code(client, db):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 200
    page = response.content.decode()
    csp = response["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    # Nothing inline for the CSP to refuse, nothing from another site.
    assert "<style" not in page
    assert re.findall(r"<script>", page) == []
    assert "on" + "load=" not in page
    sources = re.findall(r'(?:src|href)="([^"]+)"', page)
    assert sources, page
    assert all(source.startswith("/") and not source.startswith("//") for source in sources), sources
    for source in sources:
        if source.startswith(settings.STATIC_URL if settings.STATIC_URL.startswith("/") else "/static/"):
            assert finders.find(source.removeprefix("/static/")), source
    script = next(source for source in sources if "script=" in source)
    init = client.get(script)
    assert init.status_code == 200
    assert init["Content-Type"].startswith("application/javascript")
    assert "/api/v1/schema/" in init.content.decode()


def test_what_schemathesis_found_is_documented(client, db):
    # The outbox's ?unit= passes a door: a unit the caller is not a member of is a 404.
    paths = client.get("/api/v1/schema/?format=json").json()["paths"]
    assert "404" in paths["/api/v1/outbox"]["get"]["responses"]
    # A file goes with its own content type (text/plain, application/pdf…), not as octet-stream.
    for path in ("/api/v1/attachments/{id}/content", "/api/v1/completion-attachments/{id}/content"):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == ["*/*"], path
