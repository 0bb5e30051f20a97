"""Settings: every documented variable reaches its field, defaults follow the stage, bad values are named."""
from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from chalicelib.errors import SettingsError
from chalicelib.settings import COLON_LIST, COMMA_LIST, PATH, PORT_RANGE, URL, Settings, get_settings
from local_stack.config import LocalConfig

REPO = Path(__file__).resolve().parents[2]
MODELS = (Settings, LocalConfig)
# A value to set and the field value it must produce, by parser (or annotation).
SAMPLES = {
    "str": ("some-value", "some-value"), "int": ("7", 7), "float": ("2.5", 2.5), "bool": ("yes", True),
    COMMA_LIST: (" a, ,b ", ("a", "b")), COLON_LIST: ("/a::/b", ("/a", "/b")),
    PORT_RANGE: ("5000-5100", (5000, 5100)), PATH: ("/tmp/ma-home", Path("/tmp/ma-home")),
    URL: ("http://host:1/", "http://host:1"),
}
SAMPLE_BY_VARIABLE = {"MA_JWT_HS256_SECRET": ("s" * 32, "s" * 32),  # shorter secrets are refused
                      "MA_SANDBOX": ("required", "required")}  # auto, off or required only


def _documented() -> set[str]:
    """Every MA_* variable the README names or the code mentions."""
    texts = [(REPO / "README.md").read_text()]
    for folder in ("chalicelib", "local_stack"):
        texts += [p.read_text() for p in (REPO / folder).rglob("*.py")]
    return {v for text in texts for v in re.findall(r"\bMA_[A-Z0-9_]*[A-Z0-9]\b", text)}


def _field(model, name: str) -> dataclasses.Field:
    return next(f for f in dataclasses.fields(model) if f.name == name)


def test_every_documented_variable_is_a_field_of_the_settings_or_the_local_config():
    known = set(Settings.variables()) | set(LocalConfig.variables())
    assert _documented() - known == set()
    assert not set(Settings.variables()) & set(LocalConfig.variables()), "a variable is read in one place only"


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_each_variable_sets_its_field(model):
    for var, name in model.variables().items():
        f = _field(model, name)
        raw, expected = SAMPLE_BY_VARIABLE.get(var) or SAMPLES[f.metadata.get("parser") or str(f.type)]
        assert getattr(model.from_env({var: raw}), name) == expected, var


def test_names_and_runners_follow_the_stage_unless_set():
    local, prod = Settings.from_env({}), Settings.from_env({"MA_STAGE": "prod"})
    assert (local.table_name, local.bucket_name, local.build_queue_name, local.kms_key_alias) == (
        "mastra-admin-local", "mastra-admin-local-123456789012-artifacts", "mastra-admin-local-builds", "alias/mastra-admin-local")
    assert (local.build_runner, local.deploy_runner, local.clickhouse_interface, local.local_sources_enabled) == (
        "local", "local", "chdb", True)
    assert (prod.table_name, prod.codebuild_project, prod.ecs_cluster, prod.ecs_log_group) == (
        "mastra-admin-prod", "mastra-admin-prod-builds", "mastra-admin-prod", "/mastra-admin/prod/servers")
    assert (prod.build_runner, prod.deploy_runner, prod.clickhouse_interface, prod.local_sources_enabled) == (
        "codebuild", "ecs", "http", False)
    assert Settings(stage="prod") == prod, "built by field name, the same defaults"
    assert Settings.from_env({"MA_STAGE": "prod", "MA_TABLE_NAME": "t"}).table_name == "t"


def test_lists_ranges_and_empty_values_read_as_before():
    s = Settings.from_env({"MA_SERVER_PORTS": "4300", "MA_LOCAL_SOURCE_ROOTS": "", "MA_BUILD_LEASE_SECONDS": "",
                           "MA_AWS_ENDPOINT_URL": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "eu-west-1",
                           "MA_GITHUB_API_URL": "http://gh.local/"})
    assert (s.server_port_min, s.server_port_max) == (4300, 4300)
    assert s.local_source_roots == Settings().local_source_roots and s.build_lease_seconds == 60
    assert s.aws_endpoint_url == "" and s.region == "", "an empty text variable is the empty text"
    assert s.github_api_url == "http://gh.local"
    assert Settings.from_env({"AWS_DEFAULT_REGION": "eu-west-1"}).region == "eu-west-1"


def test_a_bad_value_names_the_variable_and_what_it_expected():
    with pytest.raises(SettingsError) as e:
        Settings.from_env({"MA_BUILD_LEASE_SECONDS": "abc", "MA_ECS_ASSIGN_PUBLIC_IP": "maybe"})
    assert "MA_BUILD_LEASE_SECONDS='abc': expected an integer" in str(e.value)
    assert "MA_ECS_ASSIGN_PUBLIC_IP='maybe': expected a boolean" in str(e.value)
    with pytest.raises(SettingsError, match="MA_API_PORT='x': expected an integer"):
        LocalConfig.from_env({"MA_API_PORT": "x"})


def test_get_settings_raises_the_settings_error(monkeypatch):
    monkeypatch.setenv("MA_SERVER_PORTS", "low-high")
    get_settings.cache_clear()
    try:
        with pytest.raises(SettingsError, match="MA_SERVER_PORTS='low-high': expected a port range"):
            get_settings()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_models_take_the_table_from_the_settings_at_first_use_and_follow_a_change(monkeypatch):
    from chalicelib.db import models

    monkeypatch.setenv("MA_TABLE_NAME", "first-table")
    monkeypatch.setenv("MA_AWS_ENDPOINT_URL", "http://127.0.0.1:1")
    get_settings.cache_clear()
    try:
        models.configure_tables()
        assert (models.Team.Meta.table_name, models.Team.Meta.host) == ("first-table", "http://127.0.0.1:1")
        monkeypatch.setenv("MA_TABLE_NAME", "second-table")
        get_settings.cache_clear()
        models.configure_tables()
        assert models.Team.Meta.table_name == "second-table"
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
        models.configure_tables()


def test_an_hs256_secret_shorter_than_32_bytes_is_refused_at_start():
    for short in ("secret", "s" * 31, "é" * 15):  # bytes, not characters: 30 bytes
        with pytest.raises(SettingsError, match="MA_JWT_HS256_SECRET"):
            Settings.from_env({"MA_JWT_HS256_SECRET": short})
        with pytest.raises(SettingsError, match="MA_JWT_HS256_SECRET"):
            Settings(jwt_hs256_secret=short)
    assert Settings.from_env({"MA_JWT_HS256_SECRET": "é" * 16}).jwt_hs256_secret == "é" * 16
    assert Settings.from_env({"MA_JWT_HS256_SECRET": ""}).jwt_hs256_secret == ""  # unset: HS256 off
