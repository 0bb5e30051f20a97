"""The router: `{slug}.{domain}` (or `/d/{slug}/`) to the deployment's current server.

    python -m chalicelib.router --host 0.0.0.0 --port 3100

`routes` (the route table, no third-party imports) and `proxy` (the reverse proxy: asyncio protocols,
HTTP parsed by httptools, uvloop's event loop when installed) are imported only by the router
process and the local stack: nothing on the Lambda import path imports them, and Lambda ships
neither httptools nor uvloop. `invalidation` (boto3 only) is the exception: its channel sink runs in
every control-plane process, its listener in the router.
"""
