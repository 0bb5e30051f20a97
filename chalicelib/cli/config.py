"""Where the CLI finds its API URL and credentials: flags, then environment, then the config file.

The file is `$XDG_CONFIG_HOME/mastra-admin/config.json` (`~/.config/…`), written with mode 0600 in a
0700 directory: it holds an API key.
"""
from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_API_URL = "http://127.0.0.1:8000"  # the local stack (`make up`)
TOKEN_ENV = "MASTRA_ADMIN_TOKEN"
API_URL_ENV = "MASTRA_ADMIN_API_URL"


def config_path() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mastra-admin" / "config.json"


def read() -> dict:
    path = config_path()
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        return {}
    except ValueError:
        return {}  # a damaged file is as good as none: `login` rewrites it


def write(values: dict) -> Path:
    path = config_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(values, f, indent=1)
    os.chmod(tmp, 0o600)  # an existing file keeps its old mode through O_CREAT
    os.replace(tmp, path)
    return path


@dataclass(frozen=True)
class Profile:
    api_url: str
    token: str | None
    team: str | None


def resolve(api_url: str | None = None, token: str | None = None, team: str | None = None) -> Profile:
    stored = read()
    return Profile(
        api_url=(api_url or os.environ.get(API_URL_ENV) or stored.get("apiUrl") or DEFAULT_API_URL).rstrip("/"),
        token=token or os.environ.get(TOKEN_ENV) or stored.get("token"),
        team=team or stored.get("team"),
    )
