"""The stage's templates and names, read as files: what `make deploy` relies on before any call."""
from __future__ import annotations

import re

import pytest

from chalicelib.settings import Settings
from infra.stage import templates
from infra.stage.names import DERIVED, StageNameError, StageNames, check_stage, max_stage_length

MERGE = templates.INFRA / "chalice-merge.yaml"
STACK_TEMPLATES = dict(templates.TEMPLATES)


def _load(part: str) -> dict:
    return templates.load(STACK_TEMPLATES[part])


@pytest.mark.parametrize("stage", ["dev", "staging", "prod", "pr-42", "a" * max_stage_length()])
def test_stage_names_that_fit_every_derived_name_are_accepted_by_the_tooling_and_the_templates(stage):
    assert check_stage(stage) == stage
    for part in (*STACK_TEMPLATES, "functions"):
        template = templates.load(MERGE) if part == "functions" else _load(part)
        assert re.fullmatch(template["Parameters"]["Stage"]["AllowedPattern"], stage), part
    for form, limit in DERIVED.values():
        assert len(form.format(s=stage, a="123456789012")) <= limit


@pytest.mark.parametrize("stage, why", [
    ("", "required"), ("Prod", "lowercase"), ("pr_42", "lowercase"), ("-dev", "starting with a letter"),
    ("dev-", "not ending with a hyphen"), ("local", "local stack"), ("a" * (max_stage_length() + 1), "load balancer"),
])
def test_a_stage_name_that_cannot_be_used_is_refused_with_the_reason(stage, why):
    with pytest.raises(StageNameError, match=why):
        check_stage(stage)
    assert max_stage_length() == 19  # the load balancer's 32 characters bind first


def test_table_bucket_key_and_log_groups_are_retained_when_their_stack_goes():
    retained = {(part, lid) for part in STACK_TEMPLATES for lid, r in _load(part)["Resources"].items()
                if r.get("DeletionPolicy") == "Retain" and r.get("UpdateReplacePolicy") == "Retain"}
    stateful = {(part, lid) for part in STACK_TEMPLATES for lid, r in _load(part)["Resources"].items()
                if r["Type"] in ("AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::KMS::Key", "AWS::Logs::LogGroup")}
    assert stateful == retained and len(stateful) == 6  # with the router fleet's log group


def test_every_output_is_exported_under_one_stage_wide_name():
    names = []
    for part in STACK_TEMPLATES:
        for key, output in _load(part)["Outputs"].items():
            assert output["Export"]["Name"] == {"Fn::Sub": f"mastra-admin-${{Stage}}-{key}"}, (part, key)
            names.append(key)
    assert len(names) == len(set(names)), "two stacks would export the same name"


def test_the_functions_get_every_setting_from_a_stack_export_a_parameter_or_their_own_api():
    merge = templates.load(MERGE)
    exported = {key for part in STACK_TEMPLATES for key in _load(part)["Outputs"]}
    imports = set(re.findall(r"'Fn::ImportValue': \{'Fn::Sub': 'mastra-admin-\$\{Stage\}-(\w+)'\}", str(merge)))
    assert imports and imports <= exported, imports - exported
    variables = merge["Globals"]["Function"]["Environment"]["Variables"]
    assert set(variables) - {"POWERTOOLS_SERVICE_NAME"} <= set(Settings.variables()), "a variable no setting reads"
    assert not [v for v in variables if "CLICKHOUSE_URL" in v or "PASSWORD" in v or "HS256" in v], \
        "secrets come from the settings secret, never a variable"
    assert merge["Globals"]["Function"]["KmsKeyArn"] == {"Fn::ImportValue": {"Fn::Sub": "mastra-admin-${Stage}-KeyArn"}}
    assert set(merge["Parameters"]) >= {"Stage"} and "Default" not in merge["Parameters"]["Stage"]


def test_https_public_urls_follow_the_listener():
    ecs = _load("ecs")
    assert ecs["Outputs"]["AlbListenerArn"]["Value"] == {"Fn::If": ["HasCertificate", {"Ref": "HttpsListener"},
                                                                   {"Ref": "HttpListener"}]}
    assert ecs["Outputs"]["PublicUrlScheme"]["Value"] == {"Fn::If": ["HasCertificate", "https", "http"]}


def test_fitting_for_moto_leaves_out_unsupported_types_with_what_depends_on_them():
    template = {
        "Parameters": {"Stage": {"Type": "String"}},
        "Resources": {
            "Api": {"Type": "AWS::ApiGatewayV2::Api", "Properties": {}},
            "Route": {"Type": "AWS::Lambda::Permission", "Properties": {"SourceArn": {"Fn::Sub": "arn:${Api}/*"}}},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": ["Api"], "Properties": {"Environment": {"Variables": {
                "KEEP": {"Fn::ImportValue": {"Fn::Sub": "mastra-admin-${Stage}-TableName"}},
                "GONE": {"Fn::ImportValue": {"Fn::Sub": "mastra-admin-${Stage}-CodeBuildProjectName"}},
                "WS": {"Fn::Sub": "https://${Api}.execute-api"}}}}},
        },
        "Outputs": {"Url": {"Value": {"Fn::GetAtt": ["Api", "ApiEndpoint"]}}, "Fn": {"Value": {"Ref": "Fn"}}},
    }
    fitted, left = templates.fit_for_moto(template, {"mastra-admin-dev-TableName": "t"}, {"Stage": "dev"})
    assert set(fitted["Resources"]) == {"Fn"} and "DependsOn" not in fitted["Resources"]["Fn"]
    variables = fitted["Resources"]["Fn"]["Properties"]["Environment"]["Variables"]
    assert variables["GONE"] == templates.MOTO_PLACEHOLDER and "WS" not in variables and "Fn::ImportValue" in variables["KEEP"]
    assert set(fitted["Outputs"]) == {"Fn"}
    assert left.resources == ["Api (AWS::ApiGatewayV2::Api)", "Route (AWS::Lambda::Permission)"]
    assert (left.outputs, left.variables, left.imports) == (["Url"], ["WS"], ["mastra-admin-dev-CodeBuildProjectName"])


def test_names_of_a_stage():
    names = StageNames("pr-42")
    assert names.stack("functions") == "mastra-admin-pr-42-functions"
    assert names.bucket("123456789012") == "mastra-admin-pr-42-123456789012-artifacts"
    assert names.settings_secret == "mastra-admin/pr-42/settings"
