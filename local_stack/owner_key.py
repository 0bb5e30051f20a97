"""The local stack's owner key: bootstrapped once per state directory, minted again on demand.

    python -m local_stack.owner_key [--user USER]     (with the stack running: `make up`)

The first start of a state directory ($MA_HOME) founds the team `default` with its owner
(`local-owner`), mints an owner key, saves it to $MA_HOME/owner-key (0600) and records the team in
$MA_HOME/bootstrap.json. Later starts never bootstrap again, even when that key was revoked or its
file deleted: they say how to get a new key instead. This command mints one for an existing owner
of that team (the bootstrap owner unless --user names another) and saves it to the same file.
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import sys
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

OWNER_USER = "local-owner"
TEAM_NAME = "default"
COMMAND = "python -m local_stack.owner_key"


@dataclass(frozen=True)
class Bootstrap:
    token: str | None  # a key minted now (first start only), to print once
    notice: str | None  # why no valid key is on file, and what to run


def marker_path(home: Path) -> Path:
    return home / "bootstrap.json"


def key_path(home: Path) -> Path:
    return home / "owner-key"


def save_key(home: Path, token: str) -> None:
    path = key_path(home)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(token + "\n")
    os.chmod(path, 0o600)


def _key_on_file(home: Path):
    """The stored key the file's token names, or None (no file, unparsable, unknown)."""
    from chalicelib.auth import tokens
    from chalicelib.db import api_keys

    path = key_path(home)
    if not path.exists():
        return None
    try:
        return api_keys.find(tokens.parse_api_key(path.read_text().strip()))
    except Exception:
        return None


def _write_marker(home: Path, team_id: str | None, user_id: str) -> None:
    marker_path(home).write_text(json.dumps({
        "teamId": team_id, "ownerUserId": user_id, "at": datetime.now(timezone.utc).isoformat()}) + "\n")


def bootstrap(home: Path) -> Bootstrap:
    """At every start: found the first team and key once per state directory; afterwards only report."""
    from chalicelib.services.accounts import api_keys as key_service
    from chalicelib.services.accounts import teams

    key = _key_on_file(home)
    if not marker_path(home).exists():
        if key_path(home).exists():  # a state directory from before the marker: bootstrapped already
            _write_marker(home, key.team_id if key else None, key.user_id if key else OWNER_USER)
        else:
            team = teams.found_team(TEAM_NAME, OWNER_USER)
            token = key_service.issue_owner_key(team.team_id, OWNER_USER, "owner (local bootstrap)")
            save_key(home, token)
            _write_marker(home, team.team_id, OWNER_USER)
            return Bootstrap(token=token, notice=None)
    if key is not None and key.revoked_at is None:
        return Bootstrap(token=None, notice=None)
    why = "was revoked" if key is not None else "is missing or unknown"
    return Bootstrap(token=None, notice=(
        f"the owner API key in {key_path(home)} {why}; this state directory is bootstrapped already, "
        f"so no new team or key is made. Mint a new owner key with: MA_HOME={home} {COMMAND}"))


def mint(home: Path, user_id: str | None = None) -> str:
    """A new key for an existing owner of the bootstrapped team, saved to $MA_HOME/owner-key."""
    from chalicelib.auth.rbac import Role
    from chalicelib.db import teams as team_store
    from chalicelib.services.accounts import api_keys as key_service

    try:
        marker = json.loads(marker_path(home).read_text())
    except (OSError, ValueError) as e:
        raise SystemExit(f"error: {marker_path(home)} is missing: start the stack once (make up) to bootstrap it") from e
    team_id, user_id = marker.get("teamId"), user_id or marker.get("ownerUserId") or OWNER_USER
    if not team_id:
        raise SystemExit(f"error: {marker_path(home)} names no team")
    member = team_store.find_member(team_id, user_id)
    if member is None or member.role != Role.owner.value:
        owners = [m.user_id for m in team_store.list_members(team_id, 100, None).items if m.role == Role.owner.value]
        raise SystemExit(f"error: {user_id} is not an owner of team {team_id}; its owners: {', '.join(owners) or 'none'} "
                         "(choose one with --user)")
    token = key_service.issue_owner_key(team_id, user_id, f"owner (minted by {COMMAND})")
    save_key(home, token)
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=COMMAND, description=__doc__.split("\n\n")[0])
    parser.add_argument("--user", help="the owner to mint the key for (default: the bootstrap owner)")
    args = parser.parse_args(argv)

    from local_stack.config import LocalConfig
    from local_stack.supervisor import configure_environment

    cfg = LocalConfig.from_env()
    with socket.socket() as s:
        s.settimeout(2)
        if s.connect_ex(("127.0.0.1", cfg.moto_port)) != 0:
            print(f"error: the local stack is not running (nothing on port {cfg.moto_port}); start it with "
                  "`make up` and run this again", file=sys.stderr)
            return 2
    configure_environment(cfg)
    token = mint(cfg.home, args.user)
    print(f"new owner API key (shown once, saved to {key_path(cfg.home)}):")
    print(f"  {token}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
