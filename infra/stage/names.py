"""A stage's name and every name derived from it, checked against its service's limit.

A stage name is lowercase letters, digits and hyphens, starting with a letter and not ending with a
hyphen (the load balancer's rule, the strictest of the services), and short enough that each
derived name below fits its service. It is checked before anything is created.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

PREFIX = "mastra-admin"
STACK_PARTS = ("resources", "codebuild", "ecs", "functions")  # deploy order; destroy goes backwards
RESERVED = {"local"}  # the local stack's stage: settings give it local runners and chDB
_SHAPE = re.compile(r"^[a-z](?:[a-z0-9-]*[a-z0-9])?$")
ACCOUNT_ID_LENGTH = 12


class StageNameError(ValueError):
    """The stage name cannot be used; the message says why."""


# name -> (its form for stage S and account A, its service's limit). The account id is 12 digits.
DERIVED: dict[str, tuple[str, int]] = {
    "artifacts bucket": (PREFIX + "-{s}-{a}-artifacts", 63),
    "load balancer": (PREFIX + "-{s}", 32),
    "CodeBuild role": (PREFIX + "-{s}-codebuild", 64),
    "CodeBuild policy": (PREFIX + "-{s}-control-plane-codebuild", 128),
    "build-finished rule": (PREFIX + "-{s}-build-finished", 64),
    "dead-letter queue": (PREFIX + "-{s}-deploys-dlq", 80),
    "functions stack": (PREFIX + "-{s}-functions", 128),
    "stack export": (PREFIX + "-{s}-ControlPlanePolicyArn", 255),
}


def max_stage_length() -> int:
    return min(limit - len(form.format(s="", a="0" * ACCOUNT_ID_LENGTH)) for form, limit in DERIVED.values())


def check_stage(stage: str) -> str:
    """The stage name, or StageNameError saying what is wrong with it."""
    if not isinstance(stage, str) or not stage:
        raise StageNameError("a stage name is required (e.g. STAGE=dev)")
    if not _SHAPE.match(stage):
        raise StageNameError(f"stage {stage!r}: use lowercase letters, digits and hyphens, starting with a "
                             "letter and not ending with a hyphen (e.g. dev, staging, pr-42)")
    if stage in RESERVED:
        raise StageNameError(f"stage {stage!r} is the local stack's (make up); choose another name")
    for what, (form, limit) in DERIVED.items():
        name = form.format(s=stage, a="0" * ACCOUNT_ID_LENGTH)
        if len(name) > limit:
            raise StageNameError(f"stage {stage!r} is too long: the {what} {form.format(s=stage, a='<account>')!r} "
                                 f"would have {len(name)} characters, over its limit of {limit} "
                                 f"(stage names have at most {max_stage_length()} characters)")
    return stage


@dataclass(frozen=True)
class StageNames:
    stage: str

    def __post_init__(self) -> None:
        check_stage(self.stage)

    def stack(self, part: str) -> str:
        return f"{PREFIX}-{self.stage}-{part}"

    def export(self, output: str) -> str:
        return f"{PREFIX}-{self.stage}-{output}"

    def bucket(self, account_id: str) -> str:
        return f"{PREFIX}-{self.stage}-{account_id}-artifacts"

    @property
    def settings_secret(self) -> str:
        """The Secrets Manager secret of the stage's ClickHouse credentials and JWT secret."""
        return f"{PREFIX}/{self.stage}/settings"

    @property
    def code_prefix(self) -> str:
        """Where the functions' code zips go in the artifacts bucket (one key per content hash)."""
        return "functions/"
