"""The stage's CloudFormation templates: read, pointed at the uploaded code, and fitted to moto.

`load` reads a template with CloudFormation's short tags (`!Ref`, `!Sub`, `!GetAtt`, ...) as the
long form, so it can be sent as JSON. `fit_for_moto` is used only against moto server: it
translates the SAM template (moto has no `AWS::Serverless` transform) and leaves out the resource
types moto's CloudFormation rejects or silently skips (an output or `GetAtt` of a skipped resource
fails the whole stack), with every resource and output that depends on them; environment
variables that name a left-out resource are dropped instead, so the functions stay. What was left
out is returned, to be listed.
"""
from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

INFRA = Path(__file__).resolve().parents[1]
ROOT = INFRA.parent
TEMPLATES = {"resources": INFRA / "resources.yaml", "codebuild": INFRA / "codebuild.yaml", "ecs": INFRA / "ecs.yaml"}
PACKAGE_DIR = ROOT / "build" / "package"
CODE_ZIP = "deployment.zip"

# Resource types moto's CloudFormation rejects (ApiGatewayV2; a REST API from a swagger Body, which
# it creates without methods and then refuses to deploy), or skips so that a reference to them fails
# the stack (CodeBuild projects, queue policies, API Gateway stages). Only ever applied against moto.
MOTO_UNSUPPORTED = ("AWS::ApiGatewayV2::", "AWS::ApiGateway::", "AWS::CodeBuild::Project", "AWS::SQS::QueuePolicy")
MOTO_PLACEHOLDER = "left-out-on-moto"
_SUB_NAME = re.compile(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z0-9.]+)?\}")


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.Loader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = suffix if suffix == "Ref" or suffix.startswith("Fn::") or suffix == "Condition" else f"Fn::{suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if name == "Fn::GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {name: value}


_Loader.add_multi_constructor("!", lambda loader, suffix, node: _construct(loader, suffix, node))


def load(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader)


def packaged_template(package_dir: Path = PACKAGE_DIR) -> dict[str, Any]:
    """The SAM template of `make package` (sam.yaml or sam.json)."""
    for name in ("sam.yaml", "sam.json"):
        if (package_dir / name).exists():
            return load(package_dir / name)
    raise FileNotFoundError(f"no sam.yaml or sam.json in {package_dir}: run `make package` first")


def stamp_stage(stage: str, package_dir: Path = PACKAGE_DIR) -> Path:
    """Makes `stage` the default of the packaged template's Stage parameter (`STAGE=x make package`
    yields functions of stage x wherever the template is deployed; a Stage given at deploy wins)."""
    path = next((package_dir / n for n in ("sam.yaml", "sam.json") if (package_dir / n).exists()), None)
    if path is None:
        raise FileNotFoundError(f"no sam.yaml or sam.json in {package_dir}: run `make package` first")
    template = load(path)
    template["Parameters"]["Stage"]["Default"] = stage
    if path.suffix == ".json":
        path.write_text(json.dumps(template, indent=2) + "\n")
    else:  # chalice writes intrinsics in their long form: plain YAML
        path.write_text(yaml.safe_dump(template, sort_keys=False, width=120))
    return path


def with_code(template: dict[str, Any], bucket: str, key: str) -> dict[str, Any]:
    """The SAM template with every function's code at s3://bucket/key (chalice writes a local path)."""
    template = copy.deepcopy(template)
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = f"s3://{bucket}/{key}"
    return template


# --- moto ----------------------------------------------------------------------------------------


@dataclass
class LeftOut:
    """What `fit_for_moto` removed from one template."""
    resources: list[str] = field(default_factory=list)  # "Logical (Type)"
    outputs: list[str] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)  # dropped from the functions that had them
    imports: list[str] = field(default_factory=list)  # exports no stack made on moto

    def __bool__(self) -> bool:
        return bool(self.resources or self.outputs or self.variables or self.imports)


def references(node: Any) -> set[str]:
    """Logical ids a template fragment refers to (Ref, GetAtt, Sub)."""
    found: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "Ref" and isinstance(value, str):
                found.add(value)
            elif key == "Fn::GetAtt":
                found.add(value[0] if isinstance(value, list) else str(value).split(".", 1)[0])
            elif key == "Fn::Sub":
                text = value[0] if isinstance(value, list) else value
                found.update(_SUB_NAME.findall(text))
                if isinstance(value, list):
                    found |= references(value[1])
            else:
                found |= references(value)
    elif isinstance(node, list):
        for value in node:
            found |= references(value)
    return found


def translate_sam(template: dict[str, Any], parameters: dict[str, str]) -> dict[str, Any]:
    """The SAM template as plain CloudFormation (what the AWS::Serverless transform does in AWS)."""
    from samtranslator.translator.transform import transform

    class _NoManagedPolicies:  # chalice's functions name no AWS managed policy
        def load(self) -> dict[str, str]:
            return {}

    return transform(copy.deepcopy(template), dict(parameters), _NoManagedPolicies())


def fit_for_moto(template: dict[str, Any], exports: dict[str, str],
                 parameters: dict[str, str]) -> tuple[dict[str, Any], LeftOut]:
    """`template` without what moto's CloudFormation cannot create (see the module's docstring).

    `exports` are the exports that exist: an import of any other (a name, or a Sub of `parameters`)
    becomes a placeholder value.
    """
    template = copy.deepcopy(template)
    left = LeftOut()
    resources = template.get("Resources", {})
    gone = {lid for lid, r in resources.items() if r["Type"].startswith(MOTO_UNSUPPORTED)}
    changed = True
    while changed:
        changed = False
        for lid, resource in resources.items():
            if lid in gone:
                continue
            variables = resource.get("Properties", {}).get("Environment", {}).get("Variables") or {}
            for name in [n for n, v in variables.items() if references(v) & gone]:
                del variables[name]
                if name not in left.variables:
                    left.variables.append(name)
            depends = resource.get("DependsOn")
            if depends:
                depends = [depends] if isinstance(depends, str) else depends
                resource["DependsOn"] = [d for d in depends if d not in gone]
                if not resource["DependsOn"]:
                    del resource["DependsOn"]
            if references(resource.get("Properties", {})) & gone:
                gone.add(lid)
                changed = True
    for lid in sorted(gone):
        left.resources.append(f"{lid} ({resources.pop(lid)['Type']})")
    outputs = template.get("Outputs", {})
    for name in [n for n, o in outputs.items() if references(o.get("Value")) & gone]:
        del outputs[name]
        left.outputs.append(name)
    template["Resources"] = resources
    _replace_missing_imports(template, exports, parameters, left)
    return template, left


def _replace_missing_imports(node: Any, exports: dict[str, str], parameters: dict[str, str], left: LeftOut) -> None:
    """Replaces in place every Fn::ImportValue (of a name, or of a Sub of parameters) that no stack exports."""
    items = list(node.items()) if isinstance(node, dict) else list(enumerate(node)) if isinstance(node, list) else []
    for key, value in items:
        if isinstance(value, dict) and set(value) == {"Fn::ImportValue"}:
            name = _import_name(value["Fn::ImportValue"], parameters)
            if name is not None and name not in exports:
                node[key] = MOTO_PLACEHOLDER
                if name not in left.imports:
                    left.imports.append(name)
        else:
            _replace_missing_imports(value, exports, parameters, left)


def _import_name(value: Any, parameters: dict[str, str]) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
        return _SUB_NAME.sub(lambda m: parameters.get(m.group(1), m.group(0)), value["Fn::Sub"])
    return None
