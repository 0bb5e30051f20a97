"""Every input has a clear answer in our error shape, never a 5xx (and never an echoed credential)."""
from __future__ import annotations

import base64
import json
import uuid

import pytest

from tests.support.observability_stack import ingest_one_trace


def _error(r, status: int, code: str) -> None:
    assert r.status_code == status, r.text[:300]
    assert r.json() == {"error": {"code": code, "message": r.json()["error"]["message"]}}, r.text[:300]


def test_a_deeply_nested_body_is_a_400_not_a_500(api, owner):
    for depth in (100_000, 5_000):
        body = "[" * depth + "]" * depth
        r = owner.post(api.url("/teams"), data=body, headers={"Content-Type": "application/json"})
        _error(r, 400, "invalid_json")
        nested = '{"name": "n", "x": ' + "[" * depth + "]" * depth + "}"
        r = owner.post(api.url("/teams"), data=nested, headers={"Content-Type": "application/json"})
        assert r.status_code in (400, 422), r.text[:300]


def test_a_limit_in_unicode_digits_is_a_400(api, owner):
    for limit in ("²", "١٠", "5x", "-1", "0", "101"):
        _error(owner.get(api.url("/teams"), params={"limit": limit}), 400, "invalid_limit")
    assert owner.get(api.url("/teams"), params={"limit": "5"}).status_code == 200


def test_an_unknown_path_is_a_404_in_our_shape_that_echoes_no_header(api, owner):
    for path in ("/nope", "/teams/x/y/z/w", "/%2e%2e/etc"):
        r = owner.get(api.url(path))
        _error(r, 404, "not_found")
        assert api.owner_key not in r.text and "Authorization" not in r.text
        _error(api.session().delete(api.url(path)), 404, "not_found")


def test_an_unrouted_method_is_a_405_in_our_shape(api, owner):
    r = owner.request("DELETE", api.url("/teams"))
    _error(r, 405, "method_not_allowed")
    assert set(r.headers["Allow"].replace(" ", "").split(",")) == {"GET", "POST"}


def test_a_wrong_content_type_is_a_415_in_our_shape_before_authentication(api):
    r = api.session().post(api.url("/teams"), data="<team/>", headers={"Content-Type": "application/xml"})
    _error(r, 415, "unsupported_media_type")
    assert "xml" not in r.json()["error"]["message"]  # what the caller sent is not echoed


def _cursor(value) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


TAMPERED = [
    "!!!", _cursor({"a": 1}), _cursor([]), _cursor(["2026-01-01T00:00:00+00:00"]),
    _cursor(["0001-01-01T00:00:00+00:00", "x"]), _cursor(["9999-12-31T23:59:59+00:00", "x"]),
    _cursor(["2026-01-01T00:00:00+00:00", {"id": 1}]), _cursor(["2026-01-01T00:00:00+00:00", ""]),
    _cursor(["2026-01-01T00:00:00+00:00", "x" * 5000]), _cursor(["2026-01-01T00:00:00+00:00", "a\x00b"]),
    _cursor([1, "x"]), _cursor(["yesterday", "x"]),
    base64.urlsafe_b64encode(b"[" * 3000 + b"]" * 3000).decode().rstrip("="),
]
TAMPERED_LINE = [_cursor([-1]), _cursor([2**32]), _cursor([2**70]), _cursor(["1"]), _cursor([True]),
                 _cursor([1.5]), base64.urlsafe_b64encode(b"[1e400]").decode(), _cursor([1, 2]), _cursor({"0": 1})]


@pytest.fixture
def observed(api, owner):
    team = owner.post(api.url("/teams"), json={"name": f"obs-{uuid.uuid4().hex[:6]}"}).json()["id"]
    project = owner.post(api.url(f"/teams/{team}/projects"),
                         json={"name": "p", "source": {"type": "github", "repo": "a/b"}}).json()["id"]
    deployment = owner.post(api.url(f"/projects/{project}/deployments"), json={"type": "production"}).json()["id"]
    ingest_one_trace(api, owner, team, project, deployment)
    return project


def test_a_tampered_trace_log_or_score_cursor_is_a_400(api, owner, observed):
    for path in (f"/projects/{observed}/traces", f"/projects/{observed}/logs", f"/projects/{observed}/scores"):
        assert owner.get(api.url(path), params={"cursor": _cursor(["2026-01-01T00:00:00+00:00", "x"])}).status_code == 200
        for cursor in TAMPERED:
            r = owner.get(api.url(path), params={"cursor": cursor})
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor", (path, cursor[:40], r.text[:200])


def test_a_tampered_build_log_cursor_is_a_400(api, owner, observed):
    path = f"/projects/{observed}/logs"
    build = "bld_" + "0" * 26
    assert owner.get(api.url(path), params={"buildId": build, "cursor": _cursor([3])}).status_code == 200
    for cursor in TAMPERED_LINE:
        r = owner.get(api.url(path), params={"buildId": build, "cursor": cursor})
        assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_cursor", (cursor, r.text[:200])


def test_a_time_range_outside_what_clickhouse_stores_is_a_400(api, owner, observed):
    """Found by schemathesis: `to=0197-03-26T22:17:53Z` reached ClickHouse (500 or 503)."""
    for path in ("traces", "logs", "scores", "metrics"):
        for params in ({"to": "0197-03-26T22:17:53Z"}, {"from": "1969-12-31T00:00:00Z"},
                       {"from": "2026-01-01T00:00:00Z", "to": "2999-01-01T00:00:00Z"}):
            r = owner.get(api.url(f"/projects/{observed}/{path}"), params=params)
            assert r.status_code == 400 and r.json()["error"]["code"] == "invalid_range", (path, params, r.text[:200])


def test_a_malformed_git_url_is_a_422_not_a_500(api, owner):
    """Found by schemathesis' stateful phase: an unbalanced bracket in the host made urlsplit raise."""
    team = owner.post(api.url("/teams"), json={"name": f"git-{uuid.uuid4().hex[:6]}"}).json()["id"]
    for url in ("https://host]/repo.git", "https://[::1/repo.git", "https://host:99999999/repo.git"):
        r = owner.post(api.url(f"/teams/{team}/projects"), json={"name": "bad", "source": {"type": "git", "url": url}})
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_git_url", (url, r.text)
