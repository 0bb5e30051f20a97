"""Generated clients and rendered docs group the API by resource; operationIds never move."""
from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

from chalicelib.api.openapi import TAGS

# The operationIds clients are generated with: an operation keeps its id for good. A new route adds
# its line here (its id then stays fixed); renaming or removing a line breaks every generated client.
OPERATION_IDS = json.loads((Path(__file__).parent / "operation_ids.json").read_text())


def _operations(doc: dict) -> list[tuple[str, str, dict]]:
    return [(method.upper(), path, op) for path, methods in doc["paths"].items() for method, op in methods.items()]


def test_every_operation_has_exactly_one_resource_tag(api):
    doc = api.session().get(api.url("/openapi.json")).json()
    assert [t["name"] for t in doc["tags"]] == list(TAGS)
    untagged = [(m, p, op.get("tags")) for m, p, op in _operations(doc)
                if len(op.get("tags", [])) != 1 or op["tags"][0] not in TAGS]
    assert untagged == [], "tag these operations (TAG_RULES in chalicelib/api/openapi.py)"
    used = {op["tags"][0] for _, _, op in _operations(doc)}
    assert used == set(TAGS), "every tag groups at least one operation"
    tag = {(m, p): op["tags"][0] for m, p, op in _operations(doc)}
    assert tag[("GET", "/teams/{teamId}/projects")] == "projects"
    assert tag[("GET", "/builds/{buildId}/logs")] == "builds"
    assert tag[("GET", "/projects/{projectId}/logs")] == "observability"
    assert tag[("POST", "/deployments/{deploymentId}/rollback")] == "deployments"
    assert tag[("DELETE", "/api-keys/{keyId}")] == "teams"


def test_operation_ids_are_the_committed_ones(api):
    doc = api.session().get(api.url("/openapi.json")).json()
    served = {op["operationId"]: f"{m} {p}" for m, p, op in _operations(doc)}
    assert len(served) == len(_operations(doc)), "operationIds are unique"
    assert served == OPERATION_IDS


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_the_api_reference_page_renders_every_operation_grouped_by_tag(api):
    r = api.session().get(api.url("/docs"))
    assert r.status_code == 200 and {k.lower(): v for k, v in r.headers.items()}["content-type"].startswith("text/html")
    page = _Text()
    page.feed(r.text)
    text = " ".join(page.text)
    assert "script" not in page.tags and "link" not in page.tags  # self-contained, nothing from elsewhere
    for tag in TAGS:
        assert f'id="tag-{tag}"' in r.text
    for operation_id, method_path in OPERATION_IDS.items():
        assert operation_id in text and method_path.split(" ", 1)[1] in text
    # Grouped: the rollback route sits in the deployments section, before the builds section starts.
    assert r.text.index('id="tag-deployments"') < r.text.index("/deployments/{deploymentId}/rollback") \
        < r.text.index('id="tag-builds"')
