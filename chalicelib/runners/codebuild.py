"""CodeBuildRunner: one build = one AWS CodeBuild build of the stage's project.

`run` packs the fetched source with our injection step into a ZIP (CodeBuild unpacks an S3 source
only when it is a ZIP or a folder), uploads it to `sources/{buildId}.zip`, puts the project's
variables into a per-build Secrets Manager secret, and starts the build with the rendered buildspec.
It returns `started`: the result arrives with the "CodeBuild Build State Change" event
(chalicelib/runners/codebuild_completion.py) or, if that is lost, through the reaper's `check`.

Git and GitHub sources are fetched by CodeBuild, not here (the Lambda has no git, and a clone in
/tmp would be lost with it): the bundle then holds only our files and the fetch step's modules,
the source spec (URL, ref, token) goes into the build's secret, and the buildspec fetches and
plans (chalicelib/runners/codebuild_fetch.py). A local source is still copied and packed here.

Secrets: each variable is passed as a SECRETS_MANAGER reference (`<secret name>:<VAR>`), never as
a PLAINTEXT value, because PLAINTEXT override values are returned by BatchGetBuilds, shown in the
console and copied into every state-change event on the default event bus. CodeBuild resolves the
references when the build starts and masks those values in its logs. The secret is deleted once
the build has finished or been stopped.

Every botocore error is translated here: into a failed Outcome in `run`, into `Unavailable` where a
caller must retry (`check`, `stop`).
"""
from __future__ import annotations

import dataclasses
import json
import math
import os
import secrets
import stat
import threading
import zipfile
from pathlib import Path
from typing import Any, Iterator

from botocore.exceptions import BotoCoreError, ClientError

from chalicelib.aws import error_code
from chalicelib.db.models import Build
from chalicelib.db.statuses import BuildStatus
from chalicelib.errors import Unavailable
from chalicelib.runners import injection
from chalicelib.runners.build_plan import PlanError, describe, make_plan
from chalicelib.runners.build_port import BuildJob, Check, LogLine, Outcome, artifact_key
from chalicelib.runners.buildspec import (
    BUNDLE_DIR, PYTHON_DIR, SOURCE_VAR, STAMP_FILE, buildspec_text, cache_override, render_buildspec,
    render_fetching_buildspec,
)
from chalicelib.runners.node_toolchain import NODE_VERSIONS
from chalicelib.settings import Settings

BUILD_ID_VAR = "MASTRA_ADMIN_BUILD_ID"
SECRET_ID_VAR = "MASTRA_ADMIN_SECRET_ID"
# CodeBuild rejects CODEBUILD_* names; PATH and our own names would break the build or its bookkeeping.
RESERVED_PREFIXES = ("CODEBUILD_", "MASTRA_ADMIN_")
RESERVED_NAMES = frozenset({"PATH", "HOME"})
INJECTION_SKIP = ("__pycache__", "tests", "__init__.py", "README.md", "node_modules")  # the buildspec runs npm ci
MIN_TIMEOUT_MINUTES, MAX_TIMEOUT_MINUTES = 5, 2160
# What the fetch step imports in CodeBuild, shipped as .mastra-admin/py/<path> (standard library only).
CHALICELIB = Path(__file__).resolve().parents[1]
FETCH_MODULES = ("__init__.py", "sources.py", "runners/__init__.py", "runners/build_plan.py",
                 "runners/package_managers.py", "runners/node_toolchain.py",
                 "runners/buildspec.py", "runners/codebuild_fetch.py")

# CodeBuild buildStatus -> (our status, reason prefix).
STATUS_MAP: dict[str, tuple[str, str | None]] = {
    "SUCCEEDED": (BuildStatus.SUCCEEDED, None),
    "FAILED": (BuildStatus.FAILED, "build failed"),
    "FAULT": (BuildStatus.FAILED, "CodeBuild fault"),
    "TIMED_OUT": (BuildStatus.FAILED, "timed out"),
    "STOPPED": (BuildStatus.CANCELLED, "stopped in CodeBuild"),
}


def source_key(build_id: str) -> str:
    return f"sources/{build_id}.zip"


def secret_name(stage: str, build_id: str, launch: str) -> str:
    """Per start: a force-deleted name cannot be reused at once, and `launch` is unguessable."""
    return f"mastra-admin/{stage}/builds/{build_id}/{launch}"


def timeout_minutes(seconds: int) -> int:
    return min(MAX_TIMEOUT_MINUTES, max(MIN_TIMEOUT_MINUTES, math.ceil(seconds / 60)))


def is_reserved(name: str) -> bool:
    return name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES)


def failure_reason(codebuild_status: str, phases: list[tuple[str, str, list[str]]]) -> str | None:
    """Our reason for a finished CodeBuild build, from its status and (type, status, messages) phases."""
    _, prefix = STATUS_MAP.get(codebuild_status, (BuildStatus.FAILED, f"CodeBuild status {codebuild_status}"))
    if prefix is None:
        return None
    bad = next(((t, s, m) for t, s, m in phases if s and s not in ("SUCCEEDED", "IN_PROGRESS")), None)
    if bad is None:
        return prefix
    phase_type, _, messages = bad
    detail = "; ".join(m for m in messages if m and m.strip(": "))
    return f"{prefix} in {phase_type}" + (f": {detail}" if detail else "")


def outcome_status(codebuild_status: str) -> str:
    return STATUS_MAP.get(codebuild_status, (BuildStatus.FAILED, None))[0]


def api_phases(build: dict) -> list[tuple[str, str, list[str]]]:
    """(type, status, messages) from a BatchGetBuilds build."""
    return [(p.get("phaseType", ""), p.get("phaseStatus", ""),
             [f"{c.get('statusCode', '')}: {c.get('message', '')}".strip(": ") for c in p.get("contexts") or []])
            for p in build.get("phases") or []]


def env_value(variables: list[dict], name: str) -> str | None:
    for var in variables or []:
        if var.get("name") == name:
            return var.get("value")
    return None


def environment_overrides(build_id: str, secret_id: str | None, values: dict[str, str]) -> list[dict]:
    """`environmentVariablesOverride`: our ids in plain text, the secret's values (the project's
    variables, the source spec) as references."""
    env = [{"name": BUILD_ID_VAR, "value": build_id, "type": "PLAINTEXT"}]
    if secret_id and values:
        env.append({"name": SECRET_ID_VAR, "value": secret_id, "type": "PLAINTEXT"})
        env.extend({"name": name, "value": f"{secret_id}:{name}", "type": "SECRETS_MANAGER"} for name in values)
    return env


def _describe(e: Exception) -> str:
    if isinstance(e, ClientError):
        message = e.response.get("Error", {}).get("Message", "")
        return f"{error_code(e)}: {message}" if message else error_code(e)
    return type(e).__name__ + (f": {e}" if str(e) else "")


class CodeBuildRunner:
    name = "codebuild"
    fetches_remote_sources = True  # the worker passes git and GitHub sources on unfetched

    def __init__(self, settings: Settings, *, codebuild: Any = None, s3: Any = None, secrets_manager: Any = None,
                 logs: Any = None):
        self.settings = settings
        self._clients: dict[str, Any] = {"codebuild": codebuild, "s3": s3, "secretsmanager": secrets_manager,
                                         "logs": logs}
        self._lock = threading.Lock()

    def client(self, service: str) -> Any:
        with self._lock:
            if self._clients.get(service) is None:
                from chalicelib import aws

                self._clients[service] = aws.client(service)
            return self._clients[service]

    # --- run ---------------------------------------------------------------------------------

    def run(self, job: BuildJob, log: LogLine, cancel: threading.Event) -> Outcome:
        if job.remote_source is not None:
            log(f"the {job.remote_source['type']} source is fetched and planned in CodeBuild")
            spec = buildspec_text(render_fetching_buildspec(job, dataclasses.asdict(job.build)))
        else:
            try:
                plan = make_plan(job.source_dir, job.build)
            except PlanError as e:
                return Outcome(BuildStatus.FAILED, reason=str(e))
            log(describe(plan))
            spec = buildspec_text(render_buildspec(plan, job))
        if cancel.is_set():
            return Outcome(BuildStatus.CANCELLED, reason="cancelled")
        launch = secrets.token_hex(8)
        secret_id = None
        bundle = job.workspace / "source.zip"
        step = "pack the source"
        try:
            self._pack_source(job, bundle, log)
            key = source_key(job.build_id)
            step = "upload the source"
            with open(bundle, "rb") as body:
                self.client("s3").put_object(Bucket=self.settings.bucket_name, Key=key, Body=body,
                                             ContentType="application/zip", Metadata={"build-id": job.build_id})
            log(f"source bundle s3://{self.settings.bucket_name}/{key} {bundle.stat().st_size} bytes")
            values = self._environment(job, log)
            if job.remote_source is not None:
                values[SOURCE_VAR] = json.dumps(job.remote_source)
            if values:
                step = "store the variables"
                secret_id = secret_name(self.settings.stage, job.build_id, launch)
                self.client("secretsmanager").create_secret(
                    Name=secret_id, SecretString=json.dumps(values),
                    Description=f"variables of mastra-admin build {job.build_id}; deleted when it finishes",
                    Tags=[{"Key": "mastra-admin:build-id", "Value": job.build_id}])
            if cancel.is_set():
                self._forget(secret_id)
                return Outcome(BuildStatus.CANCELLED, reason="cancelled")
            step = "start the build"
            started = self.client("codebuild").start_build(
                projectName=self.settings.codebuild_project,
                sourceTypeOverride="S3",
                sourceLocationOverride=f"{self.settings.bucket_name}/{key}",
                buildspecOverride=spec,
                cacheOverride=cache_override(self.settings.bucket_name, job.project_id),
                environmentVariablesOverride=environment_overrides(job.build_id, secret_id, values),
                timeoutInMinutesOverride=timeout_minutes(self.settings.build_timeout_seconds),
                queuedTimeoutInMinutesOverride=timeout_minutes(self.settings.build_queue_limit_seconds),
                # Fixed for this call, so botocore's own retries cannot start a second build.
                idempotencyToken=f"{job.build_id}-{launch}",
            )["build"]
        except (ClientError, BotoCoreError, OSError) as e:
            self._forget(secret_id)
            return Outcome(BuildStatus.FAILED, reason=f"codebuild: could not {step} ({_describe(e)})")
        finally:
            bundle.unlink(missing_ok=True)  # the worker keeps the workspace of a started build
        log(f"CodeBuild build {started['id']} started in project {self.settings.codebuild_project}")
        if cancel.is_set():  # cancelled while starting: do not leave it running unseen
            self._stop_quietly(started["id"])
            return Outcome(BuildStatus.CANCELLED, reason="cancelled", external_id=started["id"])
        return Outcome("started", external_id=started["id"])

    def _environment(self, job: BuildJob, log: LogLine) -> dict[str, str]:
        """The project's variables that may be passed (CodeBuild's and our own names are not)."""
        values: dict[str, str] = {}
        for name in sorted(job.env):
            if is_reserved(name):
                log(f"variable {name} is reserved in CodeBuild builds and was not passed")
                continue
            values[name] = job.env[name]
        return values

    def _pack_source(self, job: BuildJob, bundle: Path, log: LogLine) -> None:
        """ZIP of the source (modes and symlinks kept) plus .mastra-admin/{injection/, stamp.json}; for a
        source CodeBuild fetches, our files and the fetch step's modules only."""
        src = job.source_dir
        with zipfile.ZipFile(bundle, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for module in FETCH_MODULES if job.remote_source is not None else ():
                zf.write(CHALICELIB / module, f"{PYTHON_DIR}/chalicelib/{module}")
            for root, dirs, files in os.walk(src) if job.remote_source is None else ():
                rel_root = Path(root).relative_to(src)
                if rel_root == Path("."):
                    if BUNDLE_DIR in dirs or BUNDLE_DIR in files:
                        log(f"the project's own {BUNDLE_DIR}/ is replaced by the build's")
                    dirs[:] = [d for d in dirs if d != BUNDLE_DIR]
                    files = [f for f in files if f != BUNDLE_DIR]
                dirs.sort()
                for name in [*dirs, *sorted(files)]:
                    path = Path(root) / name
                    arcname = (rel_root / name).as_posix()
                    if path.is_symlink():
                        info = zipfile.ZipInfo(arcname)
                        info.create_system = 3
                        info.external_attr = (stat.S_IFLNK | 0o777) << 16
                        zf.writestr(info, os.readlink(path))
                    else:  # a directory gets its own entry, so empty directories survive
                        zf.write(path, arcname)
            for path in sorted(injection.INJECTION_DIR.rglob("*")):
                rel = path.relative_to(injection.INJECTION_DIR)
                if path.is_dir() or any(part in INJECTION_SKIP for part in rel.parts):
                    continue
                zf.write(path, f"{BUNDLE_DIR}/injection/{rel.as_posix()}")
            zf.writestr(_file_info(STAMP_FILE), json.dumps(job.stamp))

    # --- check / stop --------------------------------------------------------------------------

    def describe(self, external_id: str) -> dict | None:
        try:
            found = self.client("codebuild").batch_get_builds(ids=[external_id])
        except (ClientError, BotoCoreError) as e:
            raise Unavailable(f"CodeBuild is unavailable ({_describe(e)})") from e
        builds = [b for b in found.get("builds") or [] if b.get("id") == external_id]
        return builds[0] if builds else None

    def check(self, build: Build) -> Check:
        """Where a build whose lease expired stands; a finished build's secret is deleted here."""
        if not build.external_id:
            return Check("lost")
        found = self.describe(build.external_id)
        if found is None:
            return Check("lost")
        status = found.get("buildStatus") or "IN_PROGRESS"
        if status == "IN_PROGRESS":
            return Check("running")
        outcome = self.finished_outcome(build.build_id, status, failure_reason(status, api_phases(found)),
                                        external_id=build.external_id)
        self._forget(env_value((found.get("environment") or {}).get("environmentVariables"), SECRET_ID_VAR))
        return Check("finished", outcome)

    def finished_outcome(self, build_id: str, codebuild_status: str, reason: str | None,
                         external_id: str | None = None) -> Outcome:
        status = outcome_status(codebuild_status)
        if status != BuildStatus.SUCCEEDED:
            return Outcome(status, reason=reason, external_id=external_id)  # type: ignore[arg-type]
        key = artifact_key(build_id)
        try:
            head = self.client("s3").head_object(Bucket=self.settings.bucket_name, Key=key)
        except ClientError as e:
            if error_code(e) in ("404", "NoSuchKey", "NotFound"):
                return Outcome(BuildStatus.FAILED, reason=f"CodeBuild succeeded but uploaded no artifact at {key}",
                               external_id=external_id)
            raise Unavailable(f"S3 is unavailable ({_describe(e)})") from e
        metadata = head.get("Metadata") or {}
        sha = metadata.get("sha256")
        if not sha:
            return Outcome(BuildStatus.FAILED, reason=f"the artifact {key} has no sha256 metadata",
                           external_id=external_id)
        node = metadata.get("node-major", "")
        return Outcome(BuildStatus.SUCCEEDED, artifact_key=key, artifact_sha256=sha,
                       artifact_bytes=head.get("ContentLength"), external_id=external_id,
                       node_major=int(node) if node.isdigit() and int(node) in NODE_VERSIONS else None)

    def cancel(self, build: Build) -> None:
        self.stop(build)

    def stop(self, build: Build) -> None:
        if not build.external_id:
            return
        try:
            stopped = self.client("codebuild").stop_build(id=build.external_id).get("build") or {}
        except ClientError as e:
            if error_code(e) in ("InvalidInputException", "ResourceNotFoundException"):
                return  # already finished (or never existed): nothing is running
            raise Unavailable(f"CodeBuild is unavailable ({_describe(e)})") from e
        except BotoCoreError as e:
            raise Unavailable(f"CodeBuild is unavailable ({_describe(e)})") from e
        self._forget(env_value((stopped.get("environment") or {}).get("environmentVariables"), SECRET_ID_VAR))

    def _stop_quietly(self, external_id: str) -> None:
        try:
            self.client("codebuild").stop_build(id=external_id)
        except (ClientError, BotoCoreError):
            pass

    # --- after the build -----------------------------------------------------------------------

    def forget(self, secret_id: str | None) -> None:
        """Delete a build's variables secret; best effort (a leftover holds what DynamoDB holds)."""
        self._forget(secret_id)

    def _forget(self, secret_id: str | None) -> None:
        if not secret_id:
            return
        try:
            self.client("secretsmanager").delete_secret(SecretId=secret_id, ForceDeleteWithoutRecovery=True)
        except (ClientError, BotoCoreError):
            pass

    def log_events(self, group: str, stream: str) -> Iterator[tuple[int, str]]:
        """(timestamp ms, message) of a CloudWatch Logs stream from its head; nothing if it is gone."""
        token = None
        while True:
            kwargs = {"logGroupName": group, "logStreamName": stream, "startFromHead": True}
            if token:
                kwargs["nextToken"] = token
            try:
                page = self.client("logs").get_log_events(**kwargs)
            except ClientError as e:
                if error_code(e) == "ResourceNotFoundException":
                    return
                raise Unavailable(f"CloudWatch Logs is unavailable ({_describe(e)})") from e
            for event in page.get("events") or []:
                yield int(event.get("timestamp") or 0), str(event.get("message", ""))
            nxt = page.get("nextForwardToken")
            if not nxt or nxt == token:  # the same token back means the end of the stream
                return
            token = nxt


def _file_info(arcname: str) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(arcname, date_time=(2020, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info
