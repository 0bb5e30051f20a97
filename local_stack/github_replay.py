"""Replay a recorded GitHub delivery against the local stack, signed as GitHub signs it.

    python -m local_stack.github_replay EVENT FILE [--repository owner/name] [--installation N]
                                         [--ref refs/heads/main] [--sha SHA] [--api URL]

FILE is a delivery body as GitHub sent it (Recent Deliveries → the payload; tests/fixtures/github/
holds a push and a pull_request). The options retarget it at your linked repository, installation and
commit; each run gets a fresh X-GitHub-Delivery (pass --delivery to replay one id twice). The secret is
MA_GITHUB_WEBHOOK_SECRET, else $MA_HOME/github-webhook-secret; the URL the local stack's API
(MA_HOST, MA_API_PORT). Prints the status and the answer.
"""
from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import sys
import urllib.error
import urllib.request
import uuid
from pathlib import Path


def secret() -> str:
    if os.environ.get("MA_GITHUB_WEBHOOK_SECRET"):
        return os.environ["MA_GITHUB_WEBHOOK_SECRET"]
    from local_stack.config import LocalConfig

    path = LocalConfig.from_env().home / "github-webhook-secret"
    if not path.exists():
        sys.exit(f"no webhook secret: set MA_GITHUB_WEBHOOK_SECRET or write {path} (0600)")
    return path.read_text().strip()


def retarget(body: dict, args: argparse.Namespace) -> dict:
    if args.repository:
        body.setdefault("repository", {})["full_name"] = args.repository
        head_repo = (body.get("pull_request") or {}).get("head", {}).get("repo")
        if head_repo and not args.fork:
            head_repo["full_name"] = args.repository
    if args.installation:
        body["installation"] = {"id": args.installation}
    if args.ref:
        body["ref"] = args.ref
    if args.sha:
        if "after" in body:
            body["after"] = args.sha
        if body.get("pull_request"):
            body["pull_request"]["head"]["sha"] = args.sha
    if args.action:
        body["action"] = args.action
    return body


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("event", help="push, pull_request, installation, ping ...")
    parser.add_argument("file", type=Path)
    parser.add_argument("--repository")
    parser.add_argument("--installation", type=int)
    parser.add_argument("--ref")
    parser.add_argument("--sha")
    parser.add_argument("--action", help="a pull_request action: opened, synchronize, closed ...")
    parser.add_argument("--fork", action="store_true", help="keep the pull request's head repository")
    parser.add_argument("--delivery", default=None)
    parser.add_argument("--api", help="default: the local stack's API (MA_HOST, MA_API_PORT)")
    args = parser.parse_args(argv)
    if not args.api:
        from local_stack.config import LocalConfig

        args.api = LocalConfig.from_env().api_url
    raw = json.dumps(retarget(json.loads(args.file.read_text()), args), indent=2).encode()
    request = urllib.request.Request(f"{args.api.rstrip('/')}/webhooks/github", data=raw, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "GitHub-Hookshot/replay",
        "X-GitHub-Event": args.event, "X-GitHub-Delivery": args.delivery or str(uuid.uuid4()),
        "X-Hub-Signature-256": "sha256=" + hmac.new(secret().encode(), raw, hashlib.sha256).hexdigest(),
    })
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, text = response.status, response.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    print(status, text)
    return 0 if status < 400 else 1


if __name__ == "__main__":
    sys.exit(main())
