"""What a stage needs besides its stacks: the settings secret, the schema, the first owner.

The settings secret (`mastra-admin/<stage>/settings`, encrypted with the stage's key) holds the
ClickHouse URL, user and password, the JWT HS256 secret and the GitHub App's id, private key and
webhook secret, taken from this process's variables (`MA_CLICKHOUSE_URL`, `MA_CLICKHOUSE_USER`,
`MA_CLICKHOUSE_PASSWORD`, `MA_JWT_HS256_SECRET`, `MA_GITHUB_APP_ID`, `MA_GITHUB_WEBHOOK_SECRET`; the
key is read from the file `MA_GITHUB_APP_KEY_FILE` names) when given; values not given keep what the
secret holds. Values are never printed, only their names.

The migration and the bootstrap run here, in this process, with the settings of the stage's deployed
functions (their environment, as Lambda holds it) and the same code: moto runs no Lambda code, and
a laptop may have no permission to invoke. The migration can also be run by invoking the stage's
one-off `migrate` function instead.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from dataclasses import dataclass
from typing import Any, Mapping

from infra.stage.stacks import error_code

SECRET_VARIABLES = {"clickhouse_url": "MA_CLICKHOUSE_URL", "clickhouse_user": "MA_CLICKHOUSE_USER",
                    "clickhouse_password": "MA_CLICKHOUSE_PASSWORD", "jwt_hs256_secret": "MA_JWT_HS256_SECRET",
                    "github_app_id": "MA_GITHUB_APP_ID", "github_webhook_secret": "MA_GITHUB_WEBHOOK_SECRET"}
SECRET_FILES = {"github_app_key": "MA_GITHUB_APP_KEY_FILE"}  # the App's .pem, as GitHub hands it out
MIN_JWT_SECRET_BYTES = 32
# May point the in-process steps at another ClickHouse than the stage's (a rehearsal on moto uses chDB).
IN_PROCESS_OVERRIDES = ("MA_CLICKHOUSE_INTERFACE", "MA_CLICKHOUSE_PATH", "MA_AWS_ENDPOINT_URL")


class DayOneError(RuntimeError):
    pass


def check_secret_inputs(environ: Mapping[str, str]) -> None:
    """Before anything is created: a JWT secret too short to be safe, or a missing key file, is refused."""
    secret = environ.get(SECRET_VARIABLES["jwt_hs256_secret"]) or ""
    if secret and len(secret.encode()) < MIN_JWT_SECRET_BYTES:
        raise DayOneError(f"MA_JWT_HS256_SECRET must have at least {MIN_JWT_SECRET_BYTES} bytes")
    for var in SECRET_FILES.values():
        if environ.get(var) and not Path(environ[var]).expanduser().is_file():
            raise DayOneError(f"{var} names no file: {environ[var]}")


def write_settings_secret(secretsmanager: Any, name: str, key_arn: str, environ: Mapping[str, str]) -> list[str]:
    """Creates or updates the stage's settings secret; returns the names of the values it holds."""
    given = {key: environ[var] for key, var in SECRET_VARIABLES.items() if environ.get(var)}
    given |= {key: Path(environ[var]).expanduser().read_text() for key, var in SECRET_FILES.items() if environ.get(var)}
    try:
        current = json.loads(secretsmanager.get_secret_value(SecretId=name)["SecretString"])
    except Exception as e:
        if error_code(e) != "ResourceNotFoundException":
            raise
        secretsmanager.create_secret(
            Name=name, KmsKeyId=key_arn, SecretString=json.dumps(given),
            Description="mastra-admin: ClickHouse URL and credentials, JWT secret, GitHub App (written by make deploy)")
        return sorted(given)
    merged = {**current, **given}
    if merged != current:
        secretsmanager.put_secret_value(SecretId=name, SecretString=json.dumps(merged))
    return sorted(k for k, v in merged.items() if v)


def function_environment(lambda_client: Any, function_name: str) -> dict[str, str]:
    """The variables of a deployed function: the stage's settings as its code reads them."""
    config = lambda_client.get_function_configuration(FunctionName=function_name)
    return {k: str(v) for k, v in ((config.get("Environment") or {}).get("Variables") or {}).items()}


@dataclass(frozen=True)
class DayOne:
    migration: str  # what happened, for the report
    migration_failed: bool
    team_id: str
    owner_user_id: str
    founded: bool
    token: str | None


def run_in_process(stage_env: Mapping[str, str], environ: Mapping[str, str], owner: str,
                   mint_again: bool, migrate: bool = True) -> DayOne:
    """The migration and the bootstrap with the stage's settings, in this process.

    chalicelib reads its settings once per process, so it must not have been imported before.
    """
    overrides = {name: environ[name] for name in IN_PROCESS_OVERRIDES if environ.get(name)}
    os.environ.update({**stage_env, **overrides})
    from chalicelib.errors import AppError
    from chalicelib.services.accounts.bootstrap import bootstrap_stage

    migration, failed = "not run here", False
    if migrate:
        from chalicelib.analytics.migrate import migrate as apply_schema

        try:
            result = apply_schema()
            migration = f"{result['statements']} tables/views ensured, {result['pricesSeeded']} prices seeded"
        except AppError as e:
            failed = e.code != "clickhouse_unconfigured"
            migration = f"not applied: {e} ({e.code})"
    first = bootstrap_stage(owner, mint_again=mint_again)
    return DayOne(migration, failed, first.team_id, first.owner_user_id, first.founded, first.token)


def invoke_migration(lambda_client: Any, function_name: str) -> str:
    """Runs the stage's one-off `migrate` function; its result, or DayOneError with its error."""
    response = lambda_client.invoke(FunctionName=function_name, InvocationType="RequestResponse")
    payload = json.loads(response["Payload"].read() or b"null")
    if response.get("FunctionError"):
        raise DayOneError(f"the migrate function failed: {payload.get('errorMessage') if isinstance(payload, dict) else payload}")
    return f"{payload['statements']} tables/views ensured, {payload['pricesSeeded']} prices seeded (by {function_name})"
