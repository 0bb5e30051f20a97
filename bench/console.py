"""The console's first load to interactive (the sign-in form rendered) in headless Chromium, median of 10
cold loads (a fresh browser context each), against the same page with an empty app shell (console/dist/
shell.html: the same document and stylesheet, no application). Files are served on loopback as the local
stack serves them (local_stack/console_files.py). Needs `make console` and Debian's chromium.

Last line: `ratio_to_shell X` (the console's median over the shell's)."""
from __future__ import annotations

import os
import shutil
import statistics
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from local_stack import console_files  # noqa: E402

RUNS = 10


class Static(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = console_files.find(self.path)
        body, headers = found if found else (b'{"error": {"code": "not_found"}}', {"Content-Type": "application/json"})
        self.send_response(200 if found else 404)
        for name, value in {**headers, "Content-Length": str(len(body))}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


def load_times(browser, url: str) -> list[float]:
    times = []
    for _ in range(RUNS + 1):  # the first load warms the server and the browser's process, not counted
        context = browser.new_context()
        page = context.new_page()
        start = time.perf_counter()
        page.goto(url)
        page.wait_for_selector("body[data-ready='1']", state="attached")
        times.append((time.perf_counter() - start) * 1000)
        context.close()
    return times[1:]


def main() -> int:
    from playwright.sync_api import sync_playwright

    if not (console_files.DIST / "index.html").is_file():
        print("console/dist is missing: run make console", file=sys.stderr)
        return 2
    chromium = shutil.which("chromium")
    if not chromium:
        print("chromium is missing: make install-chromium", file=sys.stderr)
        return 2
    server = ThreadingHTTPServer(("127.0.0.1", 0), Static)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium, headless=True)
            shell = load_times(browser, f"{base}/shell.html")
            app = load_times(browser, f"{base}/")
            browser.close()
    finally:
        server.shutdown()
    for name, times in (("shell", shell), ("console", app)):
        q = statistics.quantiles(times, n=20)
        print(f"{name}: median {statistics.median(times):.1f} ms, p95 {q[18]:.1f} ms over {RUNS} cold loads")
    print(f"load average {os.getloadavg()[0]:.2f}; bundle {(console_files.DIST / 'assets' / 'app.js').stat().st_size} bytes")
    print(f"ratio_to_shell {statistics.median(app) / statistics.median(shell):.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
