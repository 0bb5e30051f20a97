"""Chooses the BuildRunner adapter from settings: the one place the runner kind is decided."""
from __future__ import annotations

import functools

from chalicelib.runners.build_port import BuildRunner
from chalicelib.settings import get_settings


@functools.lru_cache(maxsize=1)
def build_runner() -> BuildRunner:
    settings = get_settings()
    if settings.build_runner == "codebuild":
        from chalicelib.runners.codebuild import CodeBuildRunner

        return CodeBuildRunner(settings)
    from chalicelib.runners.local_build import LocalBuildRunner

    return LocalBuildRunner(settings)


def runner_named(name: str | None) -> BuildRunner:
    """The runner that ran a build (the reaper must ask the same one), falling back to the configured one."""
    runner = build_runner()
    if name in (None, runner.name):
        return runner
    settings = get_settings()
    if name == "codebuild":
        from chalicelib.runners.codebuild import CodeBuildRunner

        return CodeBuildRunner(settings)
    from chalicelib.runners.local_build import LocalBuildRunner

    return LocalBuildRunner(settings)
