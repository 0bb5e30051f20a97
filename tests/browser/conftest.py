"""The browser tier: headless Chromium (Debian's `chromium`, installed by `make install-chromium`) driven by
Playwright for Python, against one local stack for the whole tier (the tests share one built deployment).
Package-scoped: the stack and Chromium stop when the tier's last test ends, not when the worker
that ran it ends (an idle stack's pollers cost the other tests a share of a core).
Screenshots go to the directory printed at the end of the session (pytest's base temp, `browser/`)."""
from __future__ import annotations

import shutil

import pytest

from tests.support.console import Console, Register, ensure_built

LAST = "test_every_control.py"  # lists every control of every page: after every other browser test


def pytest_collection_modifyitems(items):
    items.sort(key=lambda item: item.path.name == LAST)


@pytest.fixture(scope="package")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if not path:
        pytest.skip("Debian's chromium is not installed (make install-chromium)")
    return path


@pytest.fixture(scope="package")
def stack(tmp_path_factory, chromium_path):
    from tests.support.deploys import DEPLOY_ENV, stack_serving

    ensure_built()
    # The guard's timer every second: its verdicts reach the page within the tier's patience.
    with stack_serving(tmp_path_factory.mktemp("ma-console"), {**DEPLOY_ENV, "MA_GUARD_INTERVAL": "1"}) as s:
        yield s


@pytest.fixture(scope="package")
def owner(stack):
    return stack.session(stack.owner_key)


@pytest.fixture(scope="package")
def team(stack, owner) -> str:
    return owner.get(stack.url("/teams")).json()["items"][0]["id"]


@pytest.fixture(scope="package")
def viewer_key(stack, owner, team) -> str:
    """An API key of a viewer of the tier's team (what that role may not do is disabled in the console)."""
    r = owner.post(stack.url(f"/teams/{team}/api-keys"),
                   json={"name": "console-viewer", "machineUser": "console-viewer", "role": "viewer"})
    assert r.status_code == 201, r.text
    return r.json()["secret"]


@pytest.fixture(scope="package")
def browser(chromium_path):
    from playwright.sync_api import expect, sync_playwright

    expect.set_options(timeout=20_000)  # the API on a loaded 2-core machine, not the console, sets the pace
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, headless=True)
        yield b
        b.close()


@pytest.fixture(scope="package")
def world() -> dict:
    """Ids the tests create through the console and later tests reuse (one built deployment for the tier)."""
    return {}


@pytest.fixture(scope="package")
def register() -> Register:
    return Register()


@pytest.fixture(scope="package")
def shots(tmp_path_factory):
    path = tmp_path_factory.getbasetemp() / "browser"
    path.mkdir(exist_ok=True)
    yield path
    print(f"\nconsole screenshots: {path}")


@pytest.fixture
def ui(browser, stack, register, shots):
    """A fresh browser context (its own sessionStorage), signed out, 1280x900."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(30_000)
    yield Console(page, stack.api_url, register, shots)
    context.close()


@pytest.fixture
def signed_in(ui, stack):
    ui.sign_in(stack.owner_key)
    return ui
