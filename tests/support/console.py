"""Drive the web console in Playwright, and keep the register of controls the browser tests exercised.

Every button and link the console renders has a key: its `data-action` (buttons), `data-link`, or its
`href` with ids replaced by `{id}` (links). `Console.click` records the key before clicking, and
`Console.controls` lists what the page shows, so the last browser test can fail on a control no test used.
"""
from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "console" / "dist"

# The key of a control, computed in the page (the same function for clicked and listed controls).
KEY_JS = r"""el => {
  const norm = (s) => s.replace(/[a-z]+_[0-9a-z]{16,}/g, '{id}').replace(/\b[0-9a-f]{32}\b/g, '{trace}');
  if (el.dataset.action) return 'button:' + el.dataset.action;
  if (el.dataset.link) return 'link:' + el.dataset.link;
  if (el.tagName === 'BUTTON') return 'button:' + el.textContent.trim();
  return 'link:' + norm(el.getAttribute('href'));
}"""
CONTROLS_JS = "els => els.map(" + KEY_JS + ")"
LAYOUT_SHIFTS_JS = """() => { window.__shifts = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__shifts.push(
    [e.value, ...e.sources.map((s) => s.node && (s.node.outerHTML || s.node.textContent || '').slice(0, 80))]); })
    .observe({ type: 'layout-shift', buffered: false }); }"""


def ensure_built() -> None:
    """console/dist as `make console` builds it (the tests also run without make)."""
    if not (DIST / "index.html").is_file():
        subprocess.run([sys.executable, str(ROOT / "console" / "build.py")], check=True)


def route_of(url: str) -> str:
    """The page template of a console URL: `#/projects/prj_…` -> `/projects/{id}`."""
    route = url.split("#", 1)[1] if "#" in url else "/"
    return re.sub(r"\b[0-9a-f]{32}\b", "{trace}", re.sub(r"[a-z]+_[0-9a-z]{16,}", "{id}", route))


@dataclass
class Register:
    covered: set[str] = field(default_factory=set)
    seen: dict[str, set[str]] = field(default_factory=dict)  # page template -> control keys shown there


class Console:
    def __init__(self, page, base_url: str, register: Register, shots: Path):
        self.page, self.base_url, self.register, self.shots = page, base_url, register, shots

    def goto(self, route: str) -> None:
        self.page.goto(f"{self.base_url}/#{route}")
        self.page.wait_for_selector("body[data-ready='1']")

    def sign_in(self, token: str) -> None:
        self.page.goto(f"{self.base_url}/")
        self.page.get_by_label("API key or JWT").fill(token)
        self.click(self.page.get_by_role("button", name="Sign in"))
        self.page.get_by_role("navigation", name="Main").wait_for()

    def key(self, locator) -> str:
        return locator.evaluate(KEY_JS)

    def click(self, locator, **kwargs) -> None:
        self.note_page()
        self.register.covered.add(self.key(locator))
        locator.click(**kwargs)

    def press_enter(self, locator) -> None:
        """Activate a control from the keyboard (focused, Enter), recorded like a click."""
        self.note_page()
        self.register.covered.add(self.key(locator))
        locator.focus()
        self.page.keyboard.press("Enter")

    def controls(self) -> list[str]:
        return self.page.locator("button, a[href]").evaluate_all(CONTROLS_JS)

    def note_page(self) -> None:
        self.register.seen.setdefault(route_of(self.page.url), set()).update(self.controls())

    def shot(self, name: str) -> Path:
        self.note_page()
        path = self.shots / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path
