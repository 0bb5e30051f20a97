"""A stage's CloudFormation stacks created in moto CloudFormation, as `make deploy` creates them in AWS.

The functions come from `chalice package` (the SAM template with infra/chalice-merge.yaml merged),
translated to plain CloudFormation with aws-sam-translator, since moto has no SAM transform. What
moto CloudFormation cannot create is left out and returned with the reason, and every reference to
it is replaced: by a stand-in the caller made through the service's API (same Ref and Arn), or by
a placeholder text. Outputs without an export get the stage's export name
(`mastra-admin-<stage>-<Output>`), as the stage's stacks declare them.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"

# Resource types moto CloudFormation rejects (the whole stack fails) or silently skips (then any
# Ref, GetAtt or output of them fails the stack), with why a stage can do without them here.
LEFT_OUT = {
    "AWS::ApiGatewayV2::": "moto CloudFormation rejects it: the WebSocket API (its handlers are called in-process)",
    "AWS::CodeBuild::Project": "moto CloudFormation skips it: created through the CodeBuild API instead",
    "AWS::SQS::QueuePolicy": "moto CloudFormation skips it: S3 -> SQS delivery is not under test",
    "AWS::ApiGateway::": "moto CloudFormation fails on a RestApi defined by its Body (a 500): the REST API, "
                         "whose routes are called in-process through chalice.test.Client",
}


@dataclass
class StandIn:
    """What a left-out resource's Ref and Fn::GetAtt Arn resolve to."""
    ref: str
    arn: str = ""


def load_template(path: Path) -> dict[str, Any]:
    """A CloudFormation YAML or JSON template as plain dicts and lists (short-form tags expanded)."""
    from cfnlint.decode import cfn_yaml

    return json.loads(json.dumps(cfn_yaml.load(str(path))))


def package_functions(out: Path, stage: str) -> Path:
    """`make package`'s command: sam.yaml and deployment.zip in `out`, which it returns."""
    subprocess.run([str(Path(sys.executable).parent / "chalice"), "package", "--stage", stage,
                    "--merge-template", "infra/chalice-merge.yaml", str(out)],
                   cwd=ROOT, check=True, capture_output=True, env={**_env(), "AWS_DEFAULT_REGION": REGION})
    return out


def _env() -> dict[str, str]:
    import os

    return {k: v for k, v in os.environ.items() if not k.startswith("MA_")}


def sam_to_cloudformation(template: dict[str, Any], code_bucket: str, code_key: str) -> dict[str, Any]:
    """The SAM template as plain CloudFormation, the functions' code read from s3://bucket/key."""
    import boto3
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    class NoManagedPolicies:  # the functions name their role; no SAM policy templates to look up
        def load(self) -> dict[str, str]:
            return {}

    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{code_bucket}/{code_key}"
    translator = Translator(NoManagedPolicies(), Parser(), boto_session=boto3.session.Session(region_name=REGION))
    return translator.translate(template, parameter_values={})


def _left_out_reason(resource_type: str) -> str | None:
    return next((why for prefix, why in LEFT_OUT.items() if resource_type.startswith(prefix)), None)


def without_unsupported(template: dict[str, Any], stand_ins: dict[str, StandIn] | None = None
                        ) -> tuple[dict[str, Any], dict[str, str]]:
    """The template without what moto CloudFormation cannot create, and {logical id: reason}."""
    stand_ins = stand_ins or {}
    resources = template["Resources"]
    left = {name: why for name, r in resources.items() if (why := _left_out_reason(r["Type"]))}
    # An event rule whose only targets are left-out or a function nobody invokes stays: moto keeps it.
    kept = {name: r for name, r in resources.items() if name not in left}
    for r in kept.values():
        depends = r.get("DependsOn")
        if depends:
            depends = [depends] if isinstance(depends, str) else depends
            r["DependsOn"] = [d for d in depends if d not in left]
    outputs = {name: o for name, o in (template.get("Outputs") or {}).items()
               if not (_references(o, left) - set(stand_ins))}
    result = {**template, "Resources": _replace(kept, left, stand_ins), "Outputs": _replace(outputs, left, stand_ins)}
    if not result["Outputs"]:
        del result["Outputs"]
    return result, left


def _references(value: Any, names: dict[str, str]) -> set[str]:
    text = json.dumps(value)
    return {n for n in names if re.search(rf'"(Ref|Fn::GetAtt)": (\["|"){re.escape(n)}[".]|\$\{{{re.escape(n)}[}}.]', text)}


def _replace(value: Any, left: dict[str, str], stand_ins: dict[str, StandIn]) -> Any:
    def placeholder(name: str, arn: bool = False) -> str:
        if name in stand_ins:
            return stand_ins[name].arn if arn else stand_ins[name].ref
        return f"left-out-{name}"

    if isinstance(value, dict):
        if set(value) == {"Ref"} and value["Ref"] in left:
            return placeholder(value["Ref"])
        if set(value) == {"Fn::GetAtt"}:
            target = value["Fn::GetAtt"]
            name, attr = (target.split(".", 1) if isinstance(target, str) else target)
            if name in left:
                return placeholder(name, arn=attr == "Arn")
        if set(value) == {"Fn::Sub"}:
            sub = value["Fn::Sub"]
            text, variables = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
            for name in left:
                text = text.replace(f"${{{name}.Arn}}", placeholder(name, arn=True))
                text = text.replace(f"${{{name}}}", placeholder(name))
            variables = _replace(variables, left, stand_ins)
            return {"Fn::Sub": [text, variables] if variables else text}
        return {k: _replace(v, left, stand_ins) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace(v, left, stand_ins) for v in value]
    return value


def with_exports(template: dict[str, Any], stage: str, taken: set[str] = frozenset()) -> dict[str, Any]:
    """Every output exported as `mastra-admin-<stage>-<Output>` unless it already has an export or
    another stack took that name (an export name is unique in a region)."""
    for name, output in (template.get("Outputs") or {}).items():
        if f"mastra-admin-{stage}-{name}" not in taken:
            output.setdefault("Export", {"Name": f"mastra-admin-{stage}-{name}"})
    return template


def create_stack(cfn: Any, name: str, template: dict[str, Any], parameters: dict[str, str]) -> dict[str, str]:
    """Create the stack and wait for it; its outputs by key. Fails with the stack's reasons."""
    declared = template.get("Parameters") or {}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(template), Capabilities=["CAPABILITY_NAMED_IAM"],
                     Parameters=[{"ParameterKey": k, "ParameterValue": v} for k, v in parameters.items()
                                 if k in declared])
    waiter = cfn.get_waiter("stack_create_complete")
    try:
        waiter.wait(StackName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 120})
    except Exception as e:
        events = cfn.describe_stack_events(StackName=name)["StackEvents"]
        reasons = [f"{ev['LogicalResourceId']}: {ev.get('ResourceStatusReason')}" for ev in events
                   if "FAILED" in ev["ResourceStatus"]]
        raise AssertionError(f"stack {name} was not created: {reasons or e}") from e
    stack = cfn.describe_stacks(StackName=name)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}
