"""The mastra-weather example as a deployment of a running stack (its e2e test and bench/freshness.py)."""
from __future__ import annotations

import shutil
from pathlib import Path

from tests.support.builds import start_build, tiny_deployment, wait_build

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mastra-weather"
QUESTION = {"messages": [{"role": "user", "content": "Weather in Paris?"}]}


def weather_deployment(stack, session, team: str, workdir: Path) -> tuple[str, str, Path]:
    """A copy of the example under workdir (never built in place) as a project and deployment:
    (project id, deployment id, the copy)."""
    source = workdir / "mastra-weather"
    shutil.copytree(EXAMPLE, source, ignore=shutil.ignore_patterns("node_modules", ".mastra", ".git"))
    project, deployment = tiny_deployment(stack, session, team, {"type": "local", "path": str(source)},
                                          name="mastra-weather")
    return project, deployment, source


def build_weather(stack, session, team: str, workdir: Path, timeout: float = 900) -> tuple[str, str, dict]:
    """The example built through the stack (needs the npm registry): (project, deployment, build)."""
    project, deployment, _ = weather_deployment(stack, session, team, workdir)
    build = wait_build(stack, session, start_build(stack, session, deployment)["id"], timeout=timeout)
    assert build["status"] == "succeeded", build
    return project, deployment, build
