"""`mastra-admin`: teams, projects, deployments, builds, logs and observability from a terminal.

Every command talks to the public REST API (and the WebSocket API for live output) with an API key;
`--json` on every command prints machine-readable output; exit codes are listed in `client.py`.
"""
from __future__ import annotations

import functools
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from chalicelib.cli import config, render
from chalicelib.cli.client import (
    EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE, ApiError, Client, Failed,
)
from chalicelib.cli.follow import DEPLOY_DONE, LogFollower, LogTarget, follow_deploy, follow_log
from chalicelib.cli.live import Live

app = typer.Typer(name="mastra-admin", no_args_is_help=True, pretty_exceptions_enable=False, add_completion=False,
                  help="Build, deploy and observe Mastra agent servers through the mastra-admin API.")
GROUPS = {name: typer.Typer(no_args_is_help=True, help=text) for name, text in {
    "teams": "Teams you belong to.",
    "members": "Members of a team and their roles.",
    "keys": "API keys of a team.",
    "projects": "Projects: a source (local path, git URL or GitHub repository) to build.",
    "env": "A project's environment variables (values are never shown).",
    "deployments": "Deployments of a project (production, staging, preview).",
    "builds": "Builds of a deployment.",
    "traces": "Agent traces of a project.",
    "guard": "A deployment's release guard: rules, and its last verdict.",
}.items()}
for _name, _group in GROUPS.items():
    app.add_typer(_group, name=_name)

JsonOpt = Annotated[bool, typer.Option("--json", help="Machine-readable JSON output.")]
TeamOpt = Annotated[Optional[str], typer.Option("--team", help="Team id (default: the logged-in team, or your only one).")]
SinceOpt = Annotated[Optional[str], typer.Option("--since", help="From: 30m, 24h, 7d or an ISO-8601 time.")]
WaitOpt = Annotated[bool, typer.Option("--wait/--no-wait", help="Wait until the deploy is done.")]
BuildOpt = Annotated[Optional[str], typer.Option("--build", help="The build to serve (default: see the command).")]


@dataclass
class State:
    api_url: str | None
    token: str | None
    team: str | None
    ws_url: str | None
    json: bool


def _console(stderr: bool = False) -> Console:
    # Scripts read piped output: no wrapping of ids at 80 columns, no colour codes.
    return Console(stderr=stderr, highlight=False, width=None if sys.stdout.isatty() else 250, soft_wrap=True)


@app.callback()
def root(ctx: typer.Context,
         api_url: Annotated[Optional[str], typer.Option("--api-url", envvar=config.API_URL_ENV,
                                                        help=f"API URL (default {config.DEFAULT_API_URL}, the local stack).")] = None,
         ws_url: Annotated[Optional[str], typer.Option("--ws-url", envvar="MASTRA_ADMIN_WS_URL",
                                                       help="WebSocket URL (default: the one the API gives with a ticket).")] = None,
         as_json: JsonOpt = False) -> None:
    ctx.obj = State(api_url=api_url, token=None, team=None, ws_url=ws_url, json=as_json)


class Cli:
    """What a command needs: the profile, a REST client, and output in the chosen format."""

    def __init__(self, ctx: typer.Context, as_json: bool = False, team: str | None = None):
        state: State = ctx.obj
        self.state, self.json = state, as_json or state.json
        self.profile = config.resolve(state.api_url, team=team)
        self.out, self.err = _console(), _console(stderr=True)

    @functools.cached_property
    def client(self) -> Client:
        if not self.profile.token:
            raise ApiError(401, "not_logged_in",
                           f"no API key: run `mastra-admin login` or set {config.TOKEN_ENV}")
        return Client(self.profile.api_url, self.profile.token)

    def live(self) -> Live:
        return Live(self.client, self.state.ws_url,
                    on_reconnect=lambda why: self.err.print(f"[dim]connection lost ({why}); resuming…[/dim]"))

    def team(self) -> str:
        if self.profile.team:
            return self.profile.team
        teams = list(self.client.items("/teams"))
        if len(teams) != 1:
            raise typer.BadParameter(f"you belong to {len(teams)} teams: pass --team", param_hint="--team")
        return teams[0]["id"]

    def emit(self, value: Any, columns: list[str] | None = None, title: str | None = None) -> None:
        if self.json:
            self.out.print_json(json.dumps(value, default=str)) if sys.stdout.isatty() else print(json.dumps(value))
            return
        if isinstance(value, list):
            table = Table(*(columns or sorted(value[0]) if value else columns or []), title=title, show_edge=False)
            for item in value:
                table.add_row(*(Text(_cell(item.get(c))) for c in (columns or sorted(item))))
            self.out.print(table if value else f"[dim]no {title or 'items'}[/dim]")
        else:
            for key in columns or value:
                self.out.print(f"[bold]{key}[/bold]: {escape(_cell(value.get(key)))}")

    def line(self, record: dict, text: str) -> None:
        """One line of a stream: a JSON object per line with --json, else the text."""
        if self.json:
            print(json.dumps(record), flush=True)
        else:
            self.out.print(text, markup=False)


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, (dict, list)):
        return json.dumps(value)
    return str(value)


def _team_list(ctx: typer.Context, as_json: bool, team: str | None, what: str, columns: list[str], title: str) -> None:
    cli = Cli(ctx, as_json, team)
    cli.emit(list(cli.client.items(f"/teams/{cli.team()}/{what}")), columns, title)


def _delete(ctx: typer.Context, as_json: bool, path: str, done: dict, team: str | None = None) -> None:
    cli = Cli(ctx, as_json, team)
    cli.client.request("DELETE", path.replace("{team}", cli.team()) if "{team}" in path else path)
    cli.emit(done)


# ---- login --------------------------------------------------------------------------------------

@app.command()
def login(ctx: typer.Context,
          token: Annotated[Optional[str], typer.Option("--token", help="The API key (default: read from stdin or a prompt).")] = None,
          team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Check an API key against the API and keep it (0600) in the config directory."""
    cli = Cli(ctx, as_json)
    if token is None:
        token = sys.stdin.readline().strip() if not sys.stdin.isatty() else typer.prompt("API key", hide_input=True)
    teams = list(Client(cli.profile.api_url, token).items("/teams"))  # a bad key answers 401 here
    path = config.write({"apiUrl": cli.profile.api_url, "token": token,
                         "team": team or (teams[0]["id"] if len(teams) == 1 else None)})
    cli.emit({"apiUrl": cli.profile.api_url, "teams": [t["id"] for t in teams], "config": str(path)})


@app.command()
def logout(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Forget the stored API key."""
    cli = Cli(ctx, as_json)
    stored = config.read()
    stored.pop("token", None)
    config.write(stored)
    cli.emit({"loggedOut": True})


# ---- teams, members, keys ----------------------------------------------------------------------

TEAM_COLUMNS = ["id", "name", "role", "createdAt"]


@GROUPS["teams"].command("list")
def teams_list(ctx: typer.Context, as_json: JsonOpt = False) -> None:
    """Teams you belong to."""
    cli = Cli(ctx, as_json)
    cli.emit(list(cli.client.items("/teams")), TEAM_COLUMNS, "teams")


@GROUPS["teams"].command("create")
def teams_create(ctx: typer.Context, name: str, as_json: JsonOpt = False) -> None:
    """Create a team; you become its owner."""
    cli = Cli(ctx, as_json)
    cli.emit(cli.client.post("/teams", {"name": name}), TEAM_COLUMNS)


@GROUPS["teams"].command("show")
def teams_show(ctx: typer.Context, team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """One team."""
    cli = Cli(ctx, as_json, team)
    cli.emit(cli.client.get(f"/teams/{cli.team()}"), TEAM_COLUMNS)


MEMBER_COLUMNS = ["userId", "role", "machine", "createdAt"]


@GROUPS["members"].command("list")
def members_list(ctx: typer.Context, team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Members of the team."""
    _team_list(ctx, as_json, team, "members", MEMBER_COLUMNS, "members")


@GROUPS["members"].command("add")
def members_add(ctx: typer.Context, user_id: str, role: str = "developer", team: TeamOpt = None,
                as_json: JsonOpt = False) -> None:
    """Add a user to the team with a role (owner, admin, developer, viewer)."""
    cli = Cli(ctx, as_json, team)
    cli.emit(cli.client.post(f"/teams/{cli.team()}/members", {"userId": user_id, "role": role}), MEMBER_COLUMNS)


@GROUPS["members"].command("set-role")
def members_set_role(ctx: typer.Context, user_id: str, role: str, team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Change a member's role."""
    cli = Cli(ctx, as_json, team)
    cli.emit(cli.client.request("PATCH", f"/teams/{cli.team()}/members/{user_id}", {"role": role}), MEMBER_COLUMNS)


@GROUPS["members"].command("remove")
def members_remove(ctx: typer.Context, user_id: str, team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Remove a member from the team."""
    _delete(ctx, as_json, "/teams/{team}/members/" + user_id, {"removed": user_id}, team)


KEY_COLUMNS = ["id", "name", "userId", "hint", "lastUsedAt", "revokedAt"]


@GROUPS["keys"].command("list")
def keys_list(ctx: typer.Context, team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """API keys of the team (never their secrets)."""
    _team_list(ctx, as_json, team, "api-keys", KEY_COLUMNS, "API keys")


@GROUPS["keys"].command("create")
def keys_create(ctx: typer.Context, name: str,
                machine_user: Annotated[Optional[str], typer.Option(help="Mint it for a machine user (made a member).")] = None,
                role: Annotated[str, typer.Option(help="The machine user's role.")] = "developer",
                team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Mint an API key; its secret is shown once."""
    cli = Cli(ctx, as_json, team)
    body = {"name": name} | ({"machineUser": machine_user, "role": role} if machine_user else {})
    cli.emit(cli.client.post(f"/teams/{cli.team()}/api-keys", body), ["id", "name", "userId", "secret"])


@GROUPS["keys"].command("revoke")
def keys_revoke(ctx: typer.Context, key_id: str, as_json: JsonOpt = False) -> None:
    """Revoke an API key at once."""
    _delete(ctx, as_json, f"/api-keys/{key_id}", {"revoked": key_id})


# ---- projects, env, deployments -----------------------------------------------------------------

PROJECT_COLUMNS = ["id", "name", "slug", "source", "defaultBranch", "createdAt"]


@GROUPS["projects"].command("list")
def projects_list(ctx: typer.Context, team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Projects of the team."""
    _team_list(ctx, as_json, team, "projects", PROJECT_COLUMNS, "projects")


def source_of(path: Path | None, git: str | None, github: str | None, branch: str | None) -> dict:
    given = [s for s in (path, git, github) if s]
    if len(given) != 1:
        raise typer.BadParameter("give exactly one of --path, --git, --github")
    if path:
        return {"type": "local", "path": str(path.resolve())}
    source = {"type": "git", "url": git} if git else {"type": "github", "repo": github}
    return source | ({"branch": branch} if branch else {})


@GROUPS["projects"].command("create")
def projects_create(ctx: typer.Context, name: str,
                    path: Annotated[Optional[Path], typer.Option(help="A local directory (local stack only).")] = None,
                    git: Annotated[Optional[str], typer.Option(help="A git URL (https://, ssh://, file:///).")] = None,
                    github: Annotated[Optional[str], typer.Option(help="A GitHub repository, owner/name.")] = None,
                    branch: Annotated[Optional[str], typer.Option(help="Branch to build (git, GitHub).")] = None,
                    deployment: Annotated[Optional[str], typer.Option(help="Also create a deployment of this type (production, staging, preview).")] = None,
                    team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Create a project from a local path, a git URL or a GitHub repository."""
    cli = Cli(ctx, as_json, team)
    project = cli.client.post(f"/teams/{cli.team()}/projects",
                              {"name": name, "source": source_of(path, git, github, branch)})
    if deployment:
        project["deployment"] = cli.client.post(f"/projects/{project['id']}/deployments", {"type": deployment})
    cli.emit(project, PROJECT_COLUMNS + (["deployment"] if deployment else []))


@GROUPS["projects"].command("show")
def projects_show(ctx: typer.Context, project_id: str, as_json: JsonOpt = False) -> None:
    """One project."""
    cli = Cli(ctx, as_json)
    cli.emit(cli.client.get(f"/projects/{project_id}"), PROJECT_COLUMNS)


@GROUPS["projects"].command("delete")
def projects_delete(ctx: typer.Context, project_id: str, as_json: JsonOpt = False) -> None:
    """Delete a project (its deployments stop)."""
    _delete(ctx, as_json, f"/projects/{project_id}", {"deleted": project_id})


@GROUPS["env"].command("list")
def env_list(ctx: typer.Context, project_id: str, as_json: JsonOpt = False) -> None:
    """Variables of a project, values masked."""
    cli = Cli(ctx, as_json)
    cli.emit(list(cli.client.items(f"/projects/{project_id}/env")), ["name", "value", "updatedAt"], "variables")


@GROUPS["env"].command("set")
def env_set(ctx: typer.Context, project_id: str,
            assignments: Annotated[Optional[list[str]], typer.Argument(help="NAME=VALUE (default: a .env read from stdin).")] = None,
            file: Annotated[Optional[Path], typer.Option("--file", "-f", help="A .env file.")] = None,
            as_json: JsonOpt = False) -> None:
    """Set variables from NAME=VALUE arguments, a .env file, or stdin (values never echo)."""
    cli = Cli(ctx, as_json)
    if assignments:
        text = "\n".join(assignments)
    elif file:
        text = file.read_text()
    else:
        text = sys.stdin.read()
    try:
        values = render.parse_env(text)
    except ValueError as e:
        raise typer.BadParameter(str(e)) from e
    if not values:
        raise typer.BadParameter("no NAME=VALUE given")
    for name, value in values.items():
        cli.client.request("PUT", f"/projects/{project_id}/env/{name}", {"value": value})
    cli.emit({"set": sorted(values)})


@GROUPS["env"].command("unset")
def env_unset(ctx: typer.Context, project_id: str, name: str, as_json: JsonOpt = False) -> None:
    """Delete a variable."""
    _delete(ctx, as_json, f"/projects/{project_id}/env/{name}", {"unset": name})


DEPLOYMENT_COLUMNS = ["id", "type", "branch", "status", "currentBuildId", "publicUrl", "statusReason"]


@GROUPS["deployments"].command("list")
def deployments_list(ctx: typer.Context, project_id: str, as_json: JsonOpt = False) -> None:
    """Deployments of a project."""
    cli = Cli(ctx, as_json)
    cli.emit(list(cli.client.items(f"/projects/{project_id}/deployments")), DEPLOYMENT_COLUMNS, "deployments")


@GROUPS["deployments"].command("create")
def deployments_create(ctx: typer.Context, project_id: str,
                       type: Annotated[str, typer.Option("--type", help="production, staging or preview.")] = "production",
                       branch: Annotated[Optional[str], typer.Option(help="Default: the project's branch.")] = None,
                       as_json: JsonOpt = False) -> None:
    """Create a deployment of a project."""
    cli = Cli(ctx, as_json)
    body = {"type": type} | ({"branch": branch} if branch else {})
    cli.emit(cli.client.post(f"/projects/{project_id}/deployments", body), DEPLOYMENT_COLUMNS)


@GROUPS["deployments"].command("show")
def deployments_show(ctx: typer.Context, deployment_id: str, as_json: JsonOpt = False) -> None:
    """One deployment: what serves it and where."""
    cli = Cli(ctx, as_json)
    cli.emit(cli.client.get(f"/deployments/{deployment_id}"), DEPLOYMENT_COLUMNS + ["serverId"])


@GROUPS["deployments"].command("delete")
def deployments_delete(ctx: typer.Context, deployment_id: str, as_json: JsonOpt = False) -> None:
    """Delete a deployment (its server stops)."""
    _delete(ctx, as_json, f"/deployments/{deployment_id}", {"deleted": deployment_id})


# ---- deploy, builds, logs ----------------------------------------------------------------------

BUILD_COLUMNS = ["id", "status", "trigger", "ref", "commit", "reason", "createdAt", "finishedAt"]


@app.command()
def deploy(ctx: typer.Context, deployment_id: str,
           ref: Annotated[Optional[str], typer.Option(help="Branch or tag to build.")] = None,
           commit: Annotated[Optional[str], typer.Option(help="Exact commit to build.")] = None,
           follow: Annotated[bool, typer.Option("--follow/--no-follow", help="Follow until it serves.")] = True,
           cancel_on_interrupt: Annotated[bool, typer.Option(help="Ctrl-C cancels the build (default: detach).")] = False,
           as_json: JsonOpt = False) -> None:
    """Build a deployment and follow it (phases and log lines, live) until it serves; prints the URL."""
    cli = Cli(ctx, as_json)
    body = {k: v for k, v in {"ref": ref, "commit": commit}.items() if v}
    build = cli.client.post(f"/deployments/{deployment_id}/builds", body)
    if not follow:
        cli.emit(build, BUILD_COLUMNS)
        return
    cli.line({"event": "build", "buildId": build["id"], "deploymentId": deployment_id, "status": build["status"]},
             f"build {build['id']} of {deployment_id}: {build['status']}")
    live = cli.live()
    status = cli.err.status(f"build {build['id']}: queued") if not cli.json else None

    def on_phase(phase: str) -> None:
        cli.line({"event": "phase", "phase": phase}, f"── {phase}") if cli.json else None
        if status:
            status.update(f"build {build['id']}: {phase}")

    try:
        if status:
            status.start()
        deployment = follow_deploy(cli.client, live, deployment_id, build["id"],
                                   lambda offset, line: cli.line({"event": "log", "offset": offset, "line": line}, line),
                                   on_phase)
    except KeyboardInterrupt:
        if cancel_on_interrupt:
            cli.client.post(f"/builds/{build['id']}/cancel")
            cli.err.print(f"cancelled build {build['id']}")
        else:
            cli.err.print(f"detached; build {build['id']} goes on: mastra-admin logs {build['id']} --follow")
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        if status:
            status.stop()
        live.close()
    result = {"event": "done", "buildId": build["id"], "deploymentId": deployment_id,
              "status": deployment["status"], "url": deployment["publicUrl"]}
    cli.line(result, f"✓ {deployment_id} serves build {build['id']} at {deployment['publicUrl']}")


@GROUPS["builds"].command("list")
def builds_list(ctx: typer.Context, deployment_id: str, limit: int = 20, as_json: JsonOpt = False) -> None:
    """Builds of a deployment, newest first."""
    cli = Cli(ctx, as_json)
    cli.emit(list(cli.client.items(f"/deployments/{deployment_id}/builds", limit=limit)), BUILD_COLUMNS, "builds")


@GROUPS["builds"].command("show")
def builds_show(ctx: typer.Context, build_id: str, as_json: JsonOpt = False) -> None:
    """One build."""
    cli = Cli(ctx, as_json)
    cli.emit(cli.client.get(f"/builds/{build_id}"), BUILD_COLUMNS + ["deploymentId", "logLines", "artifactKey"])


@GROUPS["builds"].command("cancel")
def builds_cancel(ctx: typer.Context, build_id: str, as_json: JsonOpt = False) -> None:
    """Cancel a queued or running build (its whole process tree)."""
    cli = Cli(ctx, as_json)
    cli.emit(cli.client.post(f"/builds/{build_id}/cancel"), BUILD_COLUMNS)


def log_target(cli: Cli, target_id: str) -> LogTarget:
    if target_id.startswith("bld_"):
        return LogTarget("build", target_id)
    if target_id.startswith("srv_"):
        return LogTarget("server", target_id)
    if target_id.startswith("dep_"):
        server = cli.client.get(f"/deployments/{target_id}").get("serverId")
        if not server:
            raise Failed(f"deployment {target_id} has no server")
        return LogTarget("server", server)
    raise typer.BadParameter("a build (bld_…), server (srv_…) or deployment (dep_…) id", param_hint="TARGET")


@app.command()
def logs(ctx: typer.Context,
         target_id: Annotated[str, typer.Argument(metavar="TARGET", help="A build, server or deployment id.")],
         follow: Annotated[bool, typer.Option("--follow", "-f", help="Stream new lines until the build ends or the server stops.")] = False,
         tail: Annotated[int, typer.Option(help="Server logs: start with the last N lines.")] = 100,
         as_json: JsonOpt = False) -> None:
    """A build's log or a server's log; --follow streams new lines and survives dropped connections."""
    cli = Cli(ctx, as_json)
    target = log_target(cli, target_id)

    def emit(offset: int, line: str) -> None:
        cli.line({"offset": offset, "line": line}, line)

    start = 0
    if target.kind == "server":  # a server's log can be long: start from its tail
        page = target.read(cli.client, tail=tail)
        for i, line in enumerate(page["lines"]):
            emit(page["offset"] + i, line)
        start = page["nextOffset"]
    follower = LogFollower(cli.client, target, emit, start)
    follower.catch_up()  # a build's whole log, page after page
    if not follow:
        return
    live = cli.live()
    try:
        follow_log(follower, live)
    except KeyboardInterrupt:
        raise typer.Exit(EXIT_INTERRUPTED) from None
    finally:
        live.close()


# ---- deploy actions ----------------------------------------------------------------------------

DEPLOY_COLUMNS = ["id", "action", "trigger", "status", "buildId", "serverId", "reason"]


def _deploy_action(ctx: typer.Context, deployment_id: str, action: str, body: dict, wait: bool, as_json: bool) -> None:
    cli = Cli(ctx, as_json)
    started = cli.client.post(f"/deployments/{deployment_id}/{action}", body)
    done = started
    while wait and done["status"] not in DEPLOY_DONE:
        time.sleep(0.5)
        done = cli.client.get(f"/deploys/{started['id']}")
    if wait and done["status"] != "succeeded":
        raise Failed(f"{action} {done['id']} {done['status']}" + (f": {done['reason']}" if done.get("reason") else ""), done)
    if wait:
        done["deployment"] = cli.client.get(f"/deployments/{deployment_id}")
    cli.emit(done, DEPLOY_COLUMNS + (["deployment"] if wait and cli.json else []))
    if wait and not cli.json and done["deployment"].get("publicUrl") and action != "stop":
        cli.out.print(f"✓ {deployment_id} serves build {done['buildId']} at {done['deployment']['publicUrl']}")


@app.command()
def rollback(ctx: typer.Context, deployment_id: str, build: BuildOpt = None, wait: WaitOpt = True,
             as_json: JsonOpt = False) -> None:
    """Serve the succeeded build before the current one again (or --build), without rebuilding."""
    _deploy_action(ctx, deployment_id, "rollback", {"buildId": build} if build else {}, wait, as_json)


@app.command()
def redeploy(ctx: typer.Context, deployment_id: str, build: BuildOpt = None, wait: WaitOpt = True,
             as_json: JsonOpt = False) -> None:
    """Deploy the current build again (or --build) on a fresh server."""
    _deploy_action(ctx, deployment_id, "redeploy", {"buildId": build} if build else {}, wait, as_json)


@app.command()
def restart(ctx: typer.Context, deployment_id: str, wait: WaitOpt = True, as_json: JsonOpt = False) -> None:
    """A fresh server of the current build (also starts a stopped deployment)."""
    _deploy_action(ctx, deployment_id, "restart", {}, wait, as_json)


@app.command()
def stop(ctx: typer.Context, deployment_id: str, wait: WaitOpt = True, as_json: JsonOpt = False) -> None:
    """Stop the deployment's server."""
    _deploy_action(ctx, deployment_id, "stop", {}, wait, as_json)


# ---- observability -----------------------------------------------------------------------------

TRACE_COLUMNS = ["traceId", "name", "startTime", "duration", "spanCount", "tokens", "cost", "status"]


@GROUPS["traces"].command("list")
def traces_list(ctx: typer.Context, project_id: str, since: SinceOpt = "24h",
                deployment: Annotated[Optional[str], typer.Option(help="Only this deployment.")] = None,
                status: Annotated[Optional[str], typer.Option(help="ok or error.")] = None,
                q: Annotated[Optional[str], typer.Option(help="Text in a span's name, input or output.")] = None,
                limit: int = 20, as_json: JsonOpt = False) -> None:
    """Recent traces of a project."""
    cli = Cli(ctx, as_json)
    items = list(cli.client.items(f"/projects/{project_id}/traces", limit=limit, **{
        "from": render.since_to_iso(since), "deploymentId": deployment, "status": status, "q": q}))
    if cli.json:
        return cli.emit(items)
    cli.emit([t | {"duration": render.duration(t["durationMs"]), "tokens": t["totalTokens"],
                   "cost": render.money(t["costUsd"])} for t in items], TRACE_COLUMNS, "traces")


@GROUPS["traces"].command("show")
def traces_show(ctx: typer.Context, project_id: str, trace_id: str, as_json: JsonOpt = False) -> None:
    """One trace as a tree of spans with durations, tokens and cost."""
    cli = Cli(ctx, as_json)
    trace = cli.client.get(f"/projects/{project_id}/traces/{trace_id}")
    if cli.json:
        return cli.emit(trace)
    cli.out.print(f"trace {trace['traceId']} · {render.duration(trace['durationMs'])} · {trace['spanCount']} spans · "
                  f"{trace['totalTokens']} tok · {render.money(trace['costUsd'])}", markup=False)
    for line in render.tree_lines(trace["spans"]):
        cli.out.print(line, markup=False)


@app.command()
def metrics(ctx: typer.Context, project_id: str, since: SinceOpt = "24h",
            interval: Annotated[str, typer.Option(help="hour or day.")] = "hour",
            group_by: Annotated[str, typer.Option(help="none, deployment, model or environment.")] = "none",
            as_json: JsonOpt = False) -> None:
    """Requests, errors, latency, tokens and cost per hour (or day), with a sparkline per series."""
    cli = Cli(ctx, as_json)
    data = cli.client.get(f"/projects/{project_id}/metrics", interval=interval, groupBy=group_by,
                          **{"from": render.since_to_iso(since)})
    if cli.json:
        return cli.emit(data)
    for series in data["series"]:
        points = series["points"]
        cli.out.print(f"[bold]{escape(series['group'])}[/bold]  requests {render.sparkline([p['requests'] for p in points])}")
        cli.emit([{"time": p["time"], "requests": p["requests"], "errors": p["errors"],
                   "p50": render.duration(p["p50Ms"]), "p95": render.duration(p["p95Ms"]),
                   "tokens": p["totalTokens"], "cost": render.money(p["costUsd"])} for p in points],
                 ["time", "requests", "errors", "p50", "p95", "tokens", "cost"])
    if not data["series"]:
        cli.out.print("[dim]no metrics in that window[/dim]")


@app.command()
def usage(ctx: typer.Context, since: SinceOpt = "30d", team: TeamOpt = None, as_json: JsonOpt = False) -> None:
    """Token usage and cost of the team by project and model."""
    cli = Cli(ctx, as_json, team)
    data = cli.client.get(f"/teams/{cli.team()}/usage", **{"from": render.since_to_iso(since)})
    if cli.json:
        return cli.emit(data)
    cli.emit([row | {"cost": render.money(row["costUsd"])} for row in data["items"]],
             ["projectId", "model", "calls", "inputTokens", "outputTokens", "totalTokens", "cost"], "usage")
    cli.out.print(f"total {render.money(data['totalCostUsd'])}"
                  + (f" (unpriced: {', '.join(data['unpricedModels'])})" if data["unpricedModels"] else ""))


# ---- release guard (issue 17) ---------------------------------------------------------------------

GUARD_FIELDS = ["enabled", "rules", "minRuns", "windowMinutes", "verdict", "why", "baseBuildId", "baseRuns",
                "headBuildId", "headRuns", "evaluations", "rejectedBuildIds"]
EVENT_COLUMNS = ["at", "type", "buildId", "status", "by", "reason"]


def rule_of(text: str) -> dict:
    """`errorRate=+0.05` (maxIncrease) or `p95LatencyMs=x1.5` (maxRatio)."""
    metric, _, limit = text.partition("=")
    kind, number = limit[:1], limit[1:]
    try:
        value = float(number)
    except ValueError:
        value = None
    if not metric or kind not in "+x" or not kind or value is None:
        raise typer.BadParameter(f"{text!r}: use METRIC=+INCREASE or METRIC=xRATIO", param_hint="--rule")
    return {"metric": metric, "maxIncrease" if kind == "+" else "maxRatio": value}


def _guard_view(guard: dict) -> dict:
    last = guard.get("lastEvaluation") or {}
    rules = ", ".join(f"{r['metric']} " + (f"+{r['maxIncrease']:g}" if "maxIncrease" in r else f"x{r['maxRatio']:g}")
                      for r in guard.get("rules") or [])
    return {**guard, **{k: last.get(k) for k in ("verdict", "why", "baseBuildId", "baseRuns", "headBuildId",
                                                    "headRuns")}, "rules": rules or None}


@GROUPS["guard"].command("show")
def guard_show(ctx: typer.Context, deployment_id: str, as_json: JsonOpt = False) -> None:
    """The guard's rules and its last evaluation (verdict, why, sample sizes)."""
    cli = Cli(ctx, as_json)
    guard = cli.client.get(f"/deployments/{deployment_id}/guard")
    cli.emit(guard if cli.json else _guard_view(guard), None if cli.json else GUARD_FIELDS)


@GROUPS["guard"].command("set")
def guard_set(ctx: typer.Context, deployment_id: str,
              rule: Annotated[list[str], typer.Option("--rule", help="METRIC=+INCREASE or METRIC=xRATIO; repeat.")] = [],
              min_runs: Annotated[int, typer.Option("--min-runs", help="Runs each build needs first.")] = 50,
              window: Annotated[int, typer.Option("--window", help="Minutes watched after each deploy.")] = 60,
              off: Annotated[bool, typer.Option("--off", help="Turn the guard off.")] = False,
              as_json: JsonOpt = False) -> None:
    """Set the guard (e.g. --rule errorRate=+0.05 --rule p95LatencyMs=x1.5 --rule costPerRunUsd=x1.3)."""
    cli = Cli(ctx, as_json)
    body = {"enabled": not off, "rules": [rule_of(r) for r in rule], "minRuns": min_runs, "windowMinutes": window}
    guard = cli.client.request("PUT", f"/deployments/{deployment_id}/guard", body=body)
    cli.emit(guard if cli.json else _guard_view(guard), None if cli.json else GUARD_FIELDS)


@app.command()
def events(ctx: typer.Context, deployment_id: str, limit: int = 20, as_json: JsonOpt = False) -> None:
    """A deployment's timeline, newest first: deploys, rollbacks (by whom, why), the guard's actions."""
    cli = Cli(ctx, as_json)
    cli.emit(list(cli.client.items(f"/deployments/{deployment_id}/events", limit=limit)), EVENT_COLUMNS, "events")


# ---- entry point -------------------------------------------------------------------------------

def _report(message: str, record: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(record))
    _console(stderr=True).print(f"[red]error:[/red] {message}", highlight=False)


def main(argv: list[str] | None = None) -> None:
    """Errors print the API's message and code, never a traceback; the exit code says what happened."""
    import click

    args = sys.argv[1:] if argv is None else argv
    as_json = "--json" in args
    try:
        code = app(args=args, prog_name="mastra-admin", standalone_mode=False)
    except ApiError as e:
        _report(f"{e.message} ({e.code})", e.as_json(), as_json)
        sys.exit(e.exit_code)
    except Failed as e:
        _report(e.message, {"error": {"code": "failed", "message": e.message, "result": e.result}}, as_json)
        sys.exit(EXIT_FAILED)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code if e.exit_code else EXIT_USAGE)
    except (click.exceptions.Abort, KeyboardInterrupt):
        sys.exit(EXIT_INTERRUPTED)
    sys.exit(code if isinstance(code, int) else EXIT_OK)

