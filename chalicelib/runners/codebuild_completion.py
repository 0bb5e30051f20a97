"""Recording a CodeBuild build's result from its "CodeBuild Build State Change" event.

The worker returned as soon as CodeBuild accepted the build (Outcome `started`); this handler, fed
by an EventBridge rule on the stage's project (infra/codebuild.yaml), finishes the job:

1. `interpret(event)` (pure): our build id (the MASTRA_ADMIN_BUILD_ID override, echoed in the
   event), the mapped status and reason, the log stream; None for events that are not ours or
   not final.
2. Only events of this stage's project, and only a build still `building` whose recorded CodeBuild id is this one is touched: a duplicate
   or late event, or the event of an orphaned earlier start, changes nothing.
3. The CloudWatch log lines are appended to the build's log (masked; a source the fetch step
   could not fetch names the reason there, which becomes the build's reason), a closing line is noted,
   the whole log is stored in S3, and the build moves `building -> status` with one conditional
   write on its status and attempt (a racing reaper or cancel wins or loses cleanly).
4. The build's variables secret is deleted.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timezone

from chalicelib import channels
from chalicelib.db import builds as store
from chalicelib.db.models import Build, utcnow
from chalicelib.db.statuses import BuildStatus
from chalicelib.control_plane_log import logger
from chalicelib.runners.codebuild import (
    BUILD_ID_VAR, SECRET_ID_VAR, STATUS_MAP, CodeBuildRunner, env_value, failure_reason, outcome_status,
)
from chalicelib.runners.codebuild_fetch import COMMIT_MARK, FAILURE_MARK
from chalicelib.services.builds.logs import MAX_LINE_CHARS, Masker, note, store_full_log, timestamp

DETAIL_TYPE = "CodeBuild Build State Change"
LOG_BATCH_LINES = 500


@dataclass(frozen=True)
class Completion:
    """What a final state-change event says about one of our builds."""
    build_id: str
    codebuild_id: str
    codebuild_status: str
    status: str  # succeeded | failed | cancelled
    reason: str | None
    project: str = ""
    log_group: str | None = None
    log_stream: str | None = None
    secret_id: str | None = None


def interpret(event: dict) -> Completion | None:
    if event.get("detail-type") != DETAIL_TYPE or event.get("source") != "aws.codebuild":
        return None
    detail = event.get("detail") or {}
    codebuild_status = detail.get("build-status")
    if codebuild_status not in STATUS_MAP:  # IN_PROGRESS, or something new: not final for us
        return None
    info = detail.get("additional-information") or {}
    variables = (info.get("environment") or {}).get("environment-variables") or []
    build_id = env_value(variables, BUILD_ID_VAR)
    if not build_id:
        return None
    phases = [(p.get("phase-type", ""), p.get("phase-status", ""), [str(c) for c in p.get("phase-context") or []])
              for p in info.get("phases") or []]
    logs = info.get("logs") or {}
    return Completion(
        build_id=build_id,
        codebuild_id=detail.get("build-id") or (event.get("resources") or [""])[0],
        codebuild_status=codebuild_status,
        status=outcome_status(codebuild_status),
        reason=failure_reason(codebuild_status, phases),
        project=detail.get("project-name") or "",
        log_group=logs.get("group-name") or None,
        log_stream=logs.get("stream-name") or None,
        secret_id=env_value(variables, SECRET_ID_VAR),
    )


def same_codebuild_build(recorded: str | None, event_id: str) -> bool:
    """The worker records the id CodeBuild returned (`project:uuid`); events carry the build ARN."""
    if not recorded:
        return True  # the worker has not recorded it yet: the build id in the variables is ours
    return recorded == event_id or event_id.endswith(f":build/{recorded}") or recorded.endswith(f":build/{event_id}")


def handle_state_change(event: dict, runner: CodeBuildRunner | None = None) -> str:
    """Record a finished CodeBuild build. Returns what happened (for logs and tests)."""
    completion = interpret(event)
    if completion is None:
        return "ignored (not a final state of a mastra-admin build)"
    runner = runner or _runner()
    if completion.project != runner.settings.codebuild_project:
        return f"ignored (project {completion.project}, not this stage's)"
    build = store.find(completion.build_id)
    if build is None:
        return "missing"
    try:
        if build.status != BuildStatus.BUILDING:
            return f"ignored ({build.status})"
        if not same_codebuild_build(build.external_id, completion.codebuild_id):
            return "ignored (an earlier CodeBuild build of this build)"
        return _record(build, completion, runner)
    finally:
        runner.forget(completion.secret_id)  # the build is over either way


def _record(build: Build, completion: Completion, runner: CodeBuildRunner) -> str:
    outcome = runner.finished_outcome(build.build_id, completion.codebuild_status, completion.reason,
                                      external_id=completion.codebuild_id)
    _, marks = copy_log(build, completion, runner)
    if marks.source_failure and outcome.status == BuildStatus.FAILED:
        outcome = replace(outcome, reason=f"source: {marks.source_failure}")
    note(build, f"codebuild: build {outcome.status}" + (f": {outcome.reason}" if outcome.reason else ""))
    key = store_full_log(build)
    fields = {"finished_at": utcnow(), "reason": outcome.reason, "lease_expires_at": None, "log_key": key,
              "log_lines": store.next_log_offset(build.build_id)}
    fields.update(outcome.artifact_fields())
    if marks.commit and not build.commit:  # a source CodeBuild fetched: the commit is known only there
        fields["commit"] = marks.commit
    moved = store.transition(build.build_id, (BuildStatus.BUILDING,), outcome.status,
                             expect_attempt=int(build.attempt or 0), **fields)
    if moved is None:
        return "lost the race"
    from chalicelib.services.builds.trigger import deploy_after, publish_status

    publish_status(moved)
    deploy_after(moved)  # a push or a manual build on CodeBuild deploys as it does locally
    return outcome.status


@dataclass
class FetchMarks:
    """What the fetch step (chalicelib/runners/codebuild_fetch.py) said in the build's log."""
    source_failure: str | None = None
    commit: str | None = None


def copy_log(build: Build, completion: Completion, runner: CodeBuildRunner) -> tuple[int, FetchMarks]:
    """Append the CodeBuild log (CloudWatch) to the build's log; skipped quietly if there is none.
    Returns the lines copied and what the fetch step marked in it."""
    marks = FetchMarks()
    if not completion.log_group or not completion.log_stream:
        return 0, marks
    mask = _masker(build)
    copied = 0
    batch: list[str] = []
    try:
        for millis, message in runner.log_events(completion.log_group, completion.log_stream):
            at = timestamp(datetime.fromtimestamp(millis / 1000, tz=timezone.utc))
            for line in message.rstrip("\r\n").split("\n") or [""]:
                line = mask(line.rstrip("\r"))
                if line.startswith(FAILURE_MARK):
                    marks.source_failure = line[len(FAILURE_MARK):].strip()[:MAX_LINE_CHARS]
                elif line.startswith(COMMIT_MARK) and len(line) - len(COMMIT_MARK) in (40, 64):
                    marks.commit = line[len(COMMIT_MARK):]
                batch.extend(f"{at} {line[i:i + MAX_LINE_CHARS]}" for i in range(0, max(len(line), 1), MAX_LINE_CHARS))
            if len(batch) >= LOG_BATCH_LINES:
                copied += _append(build, batch)
                batch = []
        copied += _append(build, batch)
    except Exception:
        logger.warning("copying the CodeBuild log failed", extra={"buildId": build.build_id})
        note(build, "codebuild: the build's CloudWatch log could not be copied; see "
                    f"{completion.log_group} {completion.log_stream}")
    return copied, marks


def _append(build: Build, lines: list[str]) -> int:
    if not lines:
        return 0
    offset = store.next_log_offset(build.build_id)
    store.append_log(build.build_id, offset, lines)
    channels.publish(channels.build_channel(build.build_id), {"type": "log", "offset": offset, "lines": lines})
    return len(lines)


def _masker(build: Build) -> Masker:
    """The worker's masking, again: CodeBuild masks secret references itself; this also covers the token."""
    from chalicelib.db import deployments as deployment_store
    from chalicelib.db import projects as project_store
    from chalicelib.services.deploys.deployments import decrypted_overrides
    from chalicelib.services.accounts.projects import decrypted_env
    from chalicelib.services.accounts.source_tokens import decrypted_token

    try:
        project = project_store.find(build.project_id)
        deployment = deployment_store.find(build.deployment_id)
        values: list[str] = []
        if project is not None:
            values += [*decrypted_env(project).values(), decrypted_token(project) or ""]
        if deployment is not None:
            values += list(decrypted_overrides(deployment).values())
        return Masker(values)
    except Exception:
        logger.warning("secrets for masking unavailable; CodeBuild's own masking applies",
                       extra={"buildId": build.build_id})
        return Masker(())


def _runner() -> CodeBuildRunner:
    from chalicelib.runners.factory import runner_named

    runner = runner_named("codebuild")
    assert isinstance(runner, CodeBuildRunner)
    return runner
