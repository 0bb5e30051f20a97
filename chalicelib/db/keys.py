"""Every DynamoDB key of the single table is built here, never inline.

Table: PK/SK, GSI1 (GSI1PK/GSI1SK), TTL on `expiresAt`.
"""
from __future__ import annotations

META = "#META"


def team(team_id: str) -> str:
    return f"TEAM#{team_id}"


def member_sk(user_id: str) -> str:
    return f"MEMBER#{user_id}"


MEMBER_PREFIX = "MEMBER#"


def user(user_id: str) -> str:
    return f"USER#{user_id}"


def api_key(key_id: str) -> str:
    return f"APIKEY#{key_id}"


def team_api_keys(team_id: str) -> str:
    return f"TEAM#{team_id}#APIKEYS"


def project(project_id: str) -> str:
    return f"PROJECT#{project_id}"


def team_projects(team_id: str) -> str:
    return f"TEAM#{team_id}#PROJECTS"


def env_sk(name: str) -> str:
    return f"ENV#{name}"


ENV_PREFIX = "ENV#"


def deployment(deployment_id: str) -> str:
    return f"DEPLOYMENT#{deployment_id}"


def project_deployments(project_id: str) -> str:
    return f"PROJECT#{project_id}#DEPLOYMENTS"


def deployment_slot_sk(kind: str, branch: str) -> str:
    """One production and one staging deployment per project; one preview per branch."""
    return f"SLOT#{kind}#{branch if kind == 'preview' else ''}"


def slug(value: str) -> str:
    return f"SLUG#{value}"


def build(build_id: str) -> str:
    return f"BUILD#{build_id}"


def deployment_builds(deployment_id: str) -> str:
    return f"DEPLOYMENT#{deployment_id}#BUILDS"


ACTIVE_BUILDS = "BUILDS#ACTIVE"
LOG_PREFIX = "LOG#"


def build_log_sk(offset: int) -> str:
    return f"LOG#{offset:010d}"


def source_token_sk(provider: str) -> str:
    return f"SOURCETOKEN#{provider}"


def server(server_id: str) -> str:
    return f"SERVER#{server_id}"


def deployment_servers(deployment_id: str) -> str:
    return f"DEPLOYMENT#{deployment_id}#SERVERS"


ACTIVE_SERVERS = "SERVERS#ACTIVE"


def deploy(deploy_id: str) -> str:
    return f"DEPLOY#{deploy_id}"


def deployment_deploys(deployment_id: str) -> str:
    return f"DEPLOYMENT#{deployment_id}#DEPLOYS"


ACTIVE_DEPLOYS = "DEPLOYS#ACTIVE"


def connection(connection_id: str) -> str:
    return f"CONN#{connection_id}"


def ws_ticket(ticket_hash: str) -> str:
    return f"WSTICKET#{ticket_hash}"


def signing_key(purpose: str) -> str:
    return f"SIGNINGKEY#{purpose}"


def channel(name: str) -> str:
    return f"CHANNEL#{name}"


def webhook_delivery(delivery_id: str) -> str:
    return f"WEBHOOK#{delivery_id}"


def github_repo(repository: str) -> str:
    return f"GITHUB#REPO#{repository.lower()}"


def github_installation(installation_id: int) -> str:
    return f"GITHUB#INSTALLATION#{installation_id}"


def github_pull_sk(number: int) -> str:
    return f"GHPULL#{number}"


def deployment_github(deployment_id: str) -> str:
    return f"DEPLOYMENT#{deployment_id}#GITHUB"


WEBHOOK_COUNTS = "WEBHOOKS#COUNTS"


def github_write(target: str) -> str:
    return f"GHWRITE#{target}"


def sorted_by_time(created_iso: str, item_id: str) -> str:
    return f"{created_iso}#{item_id}"


# --- release guard -----------------------------------------------------------------------------
GUARD_SK = "GUARD"
ACTIVE_GUARDS = "GUARDS#ACTIVE"


def guard_event(event_id: str) -> str:
    return f"GUARDEVENT#{event_id}"
