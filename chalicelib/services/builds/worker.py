"""Running one build attempt: claim, fetch, run, record. Called by the build queue's consumer.

Idempotent per build: only the worker whose conditional write moved the build `queued ->
building` runs it, so a redelivered or duplicated message does nothing. While it runs, a heartbeat
renews the lease; when the renewal is refused (cancelled, or the reaper took over) the attempt
stops and its process tree is killed.
"""
from __future__ import annotations

import shutil
import threading
import time
from datetime import timedelta
from pathlib import Path

from chalicelib import channels, sources
from chalicelib.db import builds as store
from chalicelib.db import deployments as deployment_store
from chalicelib.db import projects as project_store
from chalicelib.db.models import Build, map_or_empty, utcnow
from chalicelib.db.statuses import BuildStatus
from chalicelib.control_plane_log import logger
from chalicelib.runners.build_port import BuildJob, BuildRunner, Outcome, artifact_key, remote_spec
from chalicelib.runners.factory import build_runner
from chalicelib.services.builds import steps
from chalicelib.services.builds.logs import BuildLog, Masker
from chalicelib.services.builds.trigger import deploy_after, publish_status
from chalicelib.services.deploys.deployments import decrypted_overrides
from chalicelib.runners.build_plan import BuildSettings
from chalicelib.services.accounts.projects import build_settings, decrypted_env
from chalicelib.services.github.tokens import source_token, withholds_secrets
from chalicelib.settings import Settings, get_settings


class Heartbeat:
    def __init__(self, build_id: str, attempt: int, settings: Settings, lost: threading.Event):
        self.build_id, self.attempt, self.lost = build_id, attempt, lost
        self.lease = settings.build_lease_seconds
        self.interval = max(0.5, min(5.0, self.lease / 3))
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name=f"heartbeat-{build_id}")

    def start(self) -> "Heartbeat":
        self._thread.start()
        return self

    def _run(self) -> None:
        started = time.time()
        try:
            self._renew()
        finally:
            steps.thread_done(self.build_id, "heartbeat (background)", started)

    def _renew(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not store.renew_lease(self.build_id, self.attempt, utcnow() + timedelta(seconds=self.lease)):
                    self.lost.set()  # cancelled, or reaped: this attempt no longer owns the build
                    return
            except Exception:  # the store is briefly unreachable: the lease has slack, try again
                logger.warning("lease renewal failed", extra={"buildId": self.build_id})

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def process(build_id: str, runner: BuildRunner | None = None) -> str:
    """Run the build if it is still queued. Returns what happened (for logs and tests)."""
    settings = get_settings()
    runner = runner or build_runner()
    with steps.step(build_id, "claim"):
        claimed, refused = store.claim(build_id, settings.build_lease_seconds, runner=runner.name, reason=None)
    if claimed is None:
        return refused
    attempt = int(claimed.attempt)
    announcing = _announce(claimed)
    cancel = threading.Event()
    heartbeat = Heartbeat(build_id, attempt, settings, cancel).start()
    workspace = Path(settings.build_root) / build_id / f"attempt-{attempt}"
    log: BuildLog | None = None
    setup = steps.mark()
    try:
        project = project_store.find(claimed.project_id)
        deployment = deployment_store.find(claimed.deployment_id)
        if project is None or deployment is None:
            outcome = Outcome(BuildStatus.FAILED, reason="the project or deployment was deleted")
            log = BuildLog(claimed, Masker(()))
        else:
            env = {} if withholds_secrets(claimed) else {**decrypted_env(project), **decrypted_overrides(deployment)}
            try:
                token = source_token(project)
            except sources.SourceError as e:  # e.g. the GitHub App was uninstalled: the build says so
                log = BuildLog(claimed, Masker(env.values()))
                outcome = Outcome(BuildStatus.FAILED, reason=f"source: {e}")
            else:
                log = BuildLog(claimed, Masker([*env.values(), token or ""]))
                steps.since(build_id, "setup", setup)
                outcome = _run(claimed, attempt, project.source, env, token, workspace, runner, log, cancel,
                               settings, build_settings(project))
    except Exception as e:
        logger.exception("build attempt crashed", extra={"buildId": build_id})
        outcome = Outcome(BuildStatus.FAILED, reason=f"internal error: {type(e).__name__}")
        log = log or BuildLog(claimed, Masker(()))
    finally:
        heartbeat.stop()
        announcing.join()
    if outcome.status == "started":
        # The runner goes on alone (CodeBuild): its lease now covers the build's timeout, and its
        # completion event (or the reaper's check) records the result.
        store.set_fields(build_id, attempt, external_id=outcome.external_id,
                         lease_expires_at=utcnow() + timedelta(seconds=settings.build_timeout_seconds + 300))
        log.close()
        shutil.rmtree(workspace, ignore_errors=True)  # Lambda's /tmp outlives the invocation
        return "started"
    finish(claimed, attempt, outcome, log)
    shutil.rmtree(workspace, ignore_errors=True)
    return outcome.status


def _announce(build: Build) -> threading.Thread:
    """The claim's news (the channels, the deployment's `building`) told beside the build's start
    rather than before it. The thread is joined before the result is recorded: never heard after it."""

    def tell() -> None:
        with steps.step(build.build_id, "claim: publish (beside)"), channels.held():
            try:
                publish_status(build)
            except Exception:  # live news is best effort; the build goes on
                logger.exception("publishing the claimed build failed", extra={"buildId": build.build_id})

    thread = threading.Thread(target=tell, daemon=True, name=f"announce-{build.build_id}")
    thread.start()
    return thread


def _run(build: Build, attempt: int, source, env: dict[str, str], token: str | None, workspace: Path,
         runner: BuildRunner, log: BuildLog, cancel: threading.Event, settings: Settings,
         build_config: BuildSettings = BuildSettings()) -> Outcome:
    if attempt > 1:
        log.line(f"--- attempt {attempt} of {settings.build_max_attempts}: the previous worker was lost ---")
    log.line(f"build {build.build_id} of deployment {build.deployment_id} ({build.environment}), "
             f"runner {runner.name}")
    shutil.rmtree(workspace, ignore_errors=True)
    workspace.mkdir(parents=True)
    source, ref = map_or_empty(source), build.commit or build.ref
    remote = remote_spec(source, ref, token, settings.github_api_url) if runner.fetches_remote_sources else None
    commit = build.commit
    if remote is None:
        fetching = steps.mark()
        try:
            fetched = sources.fetch(source, ref, workspace / "src", log.line, github_token=token,
                                    github_api_url=settings.github_api_url)
        except sources.SourceError as e:
            return Outcome(BuildStatus.FAILED, reason=f"source: {e}")
        commit = fetched.commit
        steps.since(build.build_id, "fetch", fetching)
        if fetched.commit and fetched.commit != build.commit:
            store.set_fields(build.build_id, attempt, commit=fetched.commit)
    if cancel.is_set():
        return Outcome(BuildStatus.CANCELLED, reason="cancelled")
    job = BuildJob(
        build_id=build.build_id, team_id=build.team_id, project_id=build.project_id,
        deployment_id=build.deployment_id, environment=build.environment, commit=commit,
        workspace=workspace, env=env, artifact_bucket=settings.bucket_name,
        artifact_key=artifact_key(build.build_id), build=build_config, remote_source=remote,
    )
    return runner.run(job, log.line, cancel)


def finish(build: Build, attempt: int, outcome: Outcome, log: BuildLog) -> Build | None:
    """Store the whole log in S3, then record the result with the log's last lines if this attempt
    still owns the build (one transaction), then publish them."""
    log.line(f"build {outcome.status}" + (f": {outcome.reason}" if outcome.reason else ""))
    with steps.step(build.build_id, "record: log"):
        key, offset, last = log.close_keeping_last()
    fields = {"finished_at": utcnow(), "reason": outcome.reason, "lease_expires_at": None,
              "log_key": key, "log_lines": offset + len(last)}
    fields.update(outcome.artifact_fields())
    with steps.step(build.build_id, "record: status"):
        moved = store.record_result(build, attempt, outcome.status, (offset, last), **fields)
        if moved is None:  # cancelled meanwhile: the log this attempt wrote is still the build's
            if last:
                store.append_log(build.build_id, offset, last)
            store.set_fields(build.build_id, attempt, log_key=key, log_lines=offset + len(last))
    # One batch for the live sink (the heads of its channels read at once), in this order.
    with steps.step(build.build_id, "after: publish"), channels.held():
        if last:
            log.publish(offset, last)  # stored above, with the result or alone
        if moved is not None:
            publish_status(moved)
    if moved is not None:
        with steps.step(build.build_id, "after: deploy"):
            deploy_after(moved)
    return moved
