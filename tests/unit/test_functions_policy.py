"""The functions' IAM, read from infra/chalice-merge.yaml: every Resource names this stage's resources.

moto's IAM enforcement matches Resource only for SQS, S3, IAM and STS (tests/integration/
test_aws_iam.py widens the rest), so the ARNs are checked here: each Resource, rendered with its
stage-bound parts marked, must be tied to the stage (the Stage parameter, an export of the stage's
stacks, the stage's bucket parameter, or a resource of the functions' own stack) before any
wildcard, with region and account fixed; anything else must be an exception listed with its
reason in infra/iam/wildcard-resources.yaml.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
MERGE = ROOT / "infra" / "chalice-merge.yaml"
EXCEPTIONS = ROOT / "infra" / "iam" / "wildcard-resources.yaml"
PSEUDO = {"AWS::Partition": "aws", "AWS::Region": "{region}", "AWS::AccountId": "{account}", "AWS::StackName": "{stack}"}
STAGE_BOUND = re.compile(r"\{stage\}|\{export:mastra-admin-\{stage\}-\w+\}|\{resource:\w+\}|\{stack\}|"
                         r"\{param:ArtifactsBucketName\}")


def _template() -> dict:
    from cfnlint.decode import cfn_yaml

    return cfn_yaml.load(str(MERGE))


def render(value, template: dict) -> list[str]:
    """A Resource value as text, its stage-bound parts marked ({stage}, {export:…}, …); one text per
    branch of an Fn::If."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [text for item in value for text in render(item, template)]
    (function, argument), = value.items()
    if function == "Ref":
        return [_name(argument, template)]
    if function == "Fn::ImportValue":
        return [f"{{export:{text}}}" for text in render(argument, template)]
    if function == "Fn::If":
        return render(argument[1], template) + render(argument[2], template)
    if function == "Fn::Sub":
        text, variables = (argument, {}) if isinstance(argument, str) else argument
        choices = [{}]
        for name, expression in variables.items():
            choices = [{**c, name: v} for c in choices for v in render(expression, template)]
        return [re.sub(r"\$\{([^}]+)\}", lambda m, c=c: c.get(m.group(1)) or _name(m.group(1), template), text)
                for c in choices]
    raise AssertionError(f"unexpected {function} in a Resource")


def _name(name: str, template: dict) -> str:
    if name in PSEUDO:
        return PSEUDO[name]
    if name == "Stage":
        return "{stage}"
    if name in (template.get("Parameters") or {}):
        return f"{{param:{name}}}"
    return f"{{resource:{name}}}"  # a resource of the functions' stack (the WebSocket API, …)


def _statements(template: dict) -> list[tuple[str, dict]]:
    role = template["Resources"]["DefaultRole"]["Properties"]["Policies"]
    found = [(p["PolicyName"], s) for p in role for s in p["PolicyDocument"]["Statement"]]
    policy = template["Resources"]["FunctionsPolicy"]["Properties"]["PolicyDocument"]["Statement"]
    return found + [("FunctionsPolicy", s) for s in policy]


def stage_bound(arn: str) -> bool:
    """Tied to the stage before any wildcard, with region and account fixed."""
    if arn.startswith("{export:") and STAGE_BOUND.fullmatch(arn):
        return True
    anchor = STAGE_BOUND.search(arn)
    fields = arn.split(":")
    fixed = len(fields) >= 6 and fields[0] == "arn" and "*" not in ":".join(fields[1:5])
    return bool(anchor) and fixed and "*" not in arn[:anchor.start()]


def _exceptions() -> dict[tuple[str, str], str]:
    return {(e["sid"], e["resource"]): e["reason"] for e in yaml.safe_load(EXCEPTIONS.read_text())}


def _resources() -> list[tuple[str, str, str]]:
    template = _template()
    return [(policy, statement["Sid"], arn) for policy, statement in _statements(template)
            for arn in render(statement["Resource"], template)]


def test_every_resource_is_the_stages_or_a_listed_exception():
    exceptions = _exceptions()
    unbound = [(policy, sid, arn) for policy, sid, arn in _resources()
               if not stage_bound(arn) and (sid, arn) not in exceptions]
    assert not unbound, f"not tied to the stage and not in {EXCEPTIONS.name}: {unbound}"


def test_every_listed_exception_is_used_and_reasoned():
    used = {(sid, arn) for _, sid, arn in _resources()}
    for (sid, resource), reason in _exceptions().items():
        assert (sid, resource) in used, f"{sid} {resource}: no statement has it; drop it from {EXCEPTIONS.name}"
        assert len(reason.split()) >= 5, f"{sid}: say why"


def test_the_policy_is_attached_to_the_functions_role_and_chalice_policy_replaced():
    template = _template()
    assert template["Resources"]["FunctionsPolicy"]["Properties"]["Roles"] == [{"Ref": "DefaultRole"}]
    names = [p["PolicyName"] for p in template["Resources"]["DefaultRole"]["Properties"]["Policies"]]
    assert names == ["lambda-service"], "the role's policies are ours whole: Chalice's generated one is replaced"


@pytest.mark.parametrize("arn, bound", [
    ("arn:aws:sqs:{region}:{account}:mastra-admin-{stage}-builds", True),
    ("arn:aws:s3:::{export:mastra-admin-{stage}-BucketName}/sources/*", True),
    ("{export:mastra-admin-{stage}-KeyArn}", True),
    ("arn:aws:execute-api:{region}:{account}:{resource:WebsocketAPI}/api/*/@connections/*", True),
    ("*", False),
    ("arn:aws:sqs:*:{account}:mastra-admin-{stage}-builds", False),
    ("arn:aws:sqs:{region}:{account}:mastra-admin-*", False),
    ("arn:aws:s3:::*/{stage}", False),
])
def test_stage_bound_tells_stage_arns_from_others(arn, bound):
    assert stage_bound(arn) is bound
