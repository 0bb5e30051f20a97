"""Every button and link of every page was exercised by a browser test: this test runs last in the tier
(tests/browser/conftest.py), opens each page of the console for the ids the other tests made, lists its controls
from the DOM, adds those the other tests saw, and fails on any no test clicked or activated."""
from __future__ import annotations

from tests.support.console import route_of


def test_every_button_and_link_of_every_page_is_exercised(signed_in, world, register):
    ui, page = signed_in, signed_in.page
    pages = ["/projects", "/teams", "/usage", f"/projects/{world['project']}", f"/builds/{world['build1']}",
             f"/deployments/{world['deployment']}", f"/projects/{world['project']}/traces",
             f"/projects/{world['project']}/traces/{world['trace']}", f"/projects/{world['project']}/metrics"]
    shown: dict[str, set[str]] = {}
    for route in pages:
        ui.goto(route)
        page.wait_for_load_state("networkidle")
        shown[route_of(page.url)] = set(ui.controls())
    for route, controls in register.seen.items():
        shown.setdefault(route, set()).update(controls)
    assert len(shown) >= len(pages)
    missing = {route: sorted(controls - register.covered) for route, controls in shown.items()}
    assert {route: keys for route, keys in missing.items() if keys} == {}
