"""Boundary values on every route and form (issue 10): a 4xx with a Vietnamese message, never a 5xx,
on SQLite and PostgreSQL. The walker reads the routes from the OpenAPI document and the forms from
the rendered pages, so a new route or field is covered without touching this file."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from review.app import create_app
from settings import Settings
from tests.review.support import World, login

VIETNAMESE = re.compile(r"[àáạảãâầấậẩẫăằắặẳẵèéẹẻẽêềếệểễìíịỉĩòóọỏõôồốộổỗơờớợởỡùúụủũưừứựửữỳýỵỷỹđ]", re.IGNORECASE)

NAMED = [
    "/queue?from=0001-01-01",
    "/queue?to=9999-12-31",
    "/dashboard?week=0000-W01",
    "/dashboard?week=0001-W01",
    "/dashboard?week=9999-W52",
    "/audit.csv?from=0001-01-01&to=9999-12-31",
    "/api/items/9223372036854775808",
    "/api/queue?from=0001-01-01&to=9999-12-31",
    "/items/9223372036854775808",
]

# values people (or attackers) type: calendar edges, numbers past 64 bits, NUL, huge and empty text
EDGES = ["0001-01-01", "9999-12-31", "0000-W01", "9999-W52", "2026-02-30", "9223372036854775808", "-9223372036854775809",
         "0", "-1", "1e999", "NaN", "", "\x00", "a\x00b", "ư" * 3000, "' OR 1=1 --", "\"bán trú"]


@pytest.mark.parametrize("url", NAMED)
def test_named_boundary_values_get_a_vietnamese_4xx(client: TestClient, world: World, url: str) -> None:
    login(client, "giamsat.hoa")
    r = client.get(url)
    assert r.status_code in (400, 404), (url, r.status_code, r.text[:300])
    assert VIETNAMESE.search(r.text), r.text[:300]


class Forms(HTMLParser):
    """Every <form> of a page: method, action and its fields with their first (default) value."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.forms.append((a.get("method", "get").lower(), a.get("action", ""), {}))
        elif tag in {"input", "select", "textarea"} and self.forms and a.get("name"):
            self.forms[-1][2].setdefault(a["name"], a.get("value", ""))


def page_forms(client: TestClient, url: str) -> list[tuple[str, str, dict[str, str]]]:
    parser = Forms()
    parser.feed(client.get(url).text)
    return [(m, action or url.split("?")[0], fields) for m, action, fields in parser.forms]


def _check(r: Any, what: str, failures: list[str]) -> None:
    if r.status_code >= 500:
        failures.append(f"{what}: {r.status_code} {r.text[:200]!r}")


def _walk_forms(client: TestClient, pages: list[str], failures: list[str]) -> dict[str, str]:
    """Send every edge value in every field of every form; returns the queue form's fields (for the API)."""
    queue_fields: dict[str, str] = {}
    for page in pages:
        for method, action, fields in page_forms(client, page):
            if action == "/logout":
                continue  # would end the walk's own session
            if action == "/queue":
                queue_fields = fields
            for name in fields:
                if name == "csrf":
                    continue
                for value in EDGES:
                    data = {**fields, name: value}
                    r = client.get(action, params=data) if method == "get" else client.post(action, data=data)
                    _check(r, f"{method.upper()} {action} {name}={value[:30]!r}", failures)
    return queue_fields


def _walk_openapi(client: TestClient, queue_fields: dict[str, str], failures: list[str]) -> None:
    """Every API route with every edge value in each path parameter, query filter and body field."""
    doc = client.get("/api/openapi.json").json()
    csrf = client.get("/api/me").json()["csrf_token"]
    schemas = doc["components"]["schemas"]
    for path, methods in doc["paths"].items():
        for method, op in methods.items():
            params = [p["name"] for p in op.get("parameters", []) if p["in"] == "path"]
            body_ref = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {}).get("$ref", "")
            body_fields = list(schemas[body_ref.rsplit("/", 1)[-1]]["properties"]) if body_ref else []
            for value in EDGES + ["1"]:
                url = path
                for p in params:
                    url = url.replace("{" + p + "}", quote(value, safe="") or "0")
                if method == "get":
                    _check(client.get(url), f"GET {url[:60]}", failures)
                    if path == "/api/queue":
                        for key in queue_fields:
                            _check(client.get(url, params={key: value}), f"GET {path} {key}={value[:30]!r}", failures)
                    continue
                for field in body_fields or [""]:
                    body: dict[str, Any] = {"action": "verdict", "version": 1, field: value} if field else {}
                    if value.lstrip("-").isdigit():
                        body[field] = int(value)
                    r = client.request(method.upper(), url, json=body, headers={"X-CSRF-Token": csrf})
                    _check(r, f"{method.upper()} {url[:60]} {field}={value[:30]!r}", failures)


def test_every_route_and_form_survives_edge_values(app_settings: Settings, world: World) -> None:
    app = create_app(app_settings.replace(login_address_max_failures=0))
    # a 500 is collected as an answer (all of them listed at the end), not raised at the first one
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        _walk(client, world)
    app.state.engine.dispose()


def _walk(client: TestClient, world: World) -> None:
    failures: list[str] = []
    anonymous = page_forms(client, "/login")
    for _, action, fields in anonymous:
        for name in ("username", "password", "next"):
            for value in EDGES:
                _check(client.post(action, data={**fields, name: value}), f"POST /login {name}={value[:30]!r}", failures)
    login(client, "quantri")
    items = [world.rumour_item, world.merger_item, world.allowance_item, world.resolved_item]
    pages = ["/queue", "/audit", "/users", "/sources", "/claims", "/dashboard"] + [f"/items/{i}" for i in items]
    queue_fields = _walk_forms(client, pages, failures)
    assert queue_fields, "the queue page has no filter form"
    _walk_openapi(client, queue_fields, failures)
    assert client.get("/api/me").status_code == 200, "the walk lost its session"
    assert not failures, "\n".join(failures[:40])
