"""The web console (console/dist/, built by `make console`) served by the local API server beside the API:
`/` is the app, `/assets/*` its bundle, `/config.json` where the API is (here: the same origin, so the
browser needs no CORS). Any other path, and every path when the console is not built, goes to the API."""
from __future__ import annotations

from pathlib import Path

DIST = Path(__file__).resolve().parents[1] / "console" / "dist"
TYPES = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".css": "text/css; charset=utf-8", ".json": "application/json", ".map": "application/json"}
# The bundle loads nothing from elsewhere; style attributes (row offsets, chart sizes) need 'unsafe-inline'.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "connect-src 'self' ws: wss:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
LOCAL_CONFIG = b'{"apiUrl": ""}'


def find(request_path: str, dist: Path = DIST) -> tuple[bytes, dict[str, str]] | None:
    """The body and headers of the console file `request_path` names, or None (the API answers)."""
    path = request_path.split("?", 1)[0].split("#", 1)[0]
    if path == "/config.json" and (dist / "index.html").is_file():
        return LOCAL_CONFIG, _headers(".json")
    if path == "/":
        path = "/index.html"
    if path not in ("/index.html", "/shell.html") and not path.startswith("/assets/"):
        return None
    root = dist.resolve()
    file = (root / path.lstrip("/")).resolve()
    if root not in file.parents or not file.is_file():
        return None
    return file.read_bytes(), _headers(file.suffix)


def _headers(suffix: str) -> dict[str, str]:
    # Asset names carry no hash: revalidate every time (304s are cheap on loopback and in CloudFront).
    return {"Content-Type": TYPES.get(suffix, "application/octet-stream"), "Cache-Control": "no-cache",
            "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
