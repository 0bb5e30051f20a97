"""Create the resources of infra/resources.yaml on an AWS endpoint (moto server locally).

One description for both worlds: the CloudFormation template is read here and each resource is
created through the service API, idempotently (an existing resource is left as it is). Only the
intrinsics the template uses are supported: Ref, Fn::Sub, Fn::GetAtt (.Arn, and a queue's .QueueName).
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

TEMPLATE = Path(__file__).resolve().parents[1] / "infra" / "resources.yaml"
ACCOUNT_ID = "123456789012"


class _Loader(yaml.SafeLoader):
    pass


def _tag(name: str):
    def construct(loader: yaml.Loader, node: yaml.Node) -> dict[str, Any]:
        if isinstance(node, yaml.ScalarNode):
            value: Any = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                value = value.split(".", 1)
        else:
            value = loader.construct_sequence(node)
        return {name: value}

    return construct


for _short, _full in (("!Ref", "Ref"), ("!Sub", "Fn::Sub"), ("!GetAtt", "Fn::GetAtt")):
    _Loader.add_constructor(_short, _tag(_full))


def load_template(path: Path = TEMPLATE) -> dict[str, Any]:
    return yaml.load(path.read_text(), Loader=_Loader)


class Provisioner:
    def __init__(self, session: Any, endpoint_url: str | None, region: str, stage: str,
                 parameters: dict[str, str] | None = None):
        self.clients = {s: session.client(s, endpoint_url=endpoint_url, region_name=region)
                        for s in ("dynamodb", "sqs", "s3", "kms", "sns")}
        self.region = region
        self.params = {"Stage": stage, "AWS::AccountId": ACCOUNT_ID, "AWS::Region": region, **(parameters or {})}
        self.refs: dict[str, str] = {}
        self.arns: dict[str, str] = {}

    # --- intrinsics ---------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"}:
                name = value["Ref"]
                return self.params[name] if name in self.params else self.refs[name]
            if set(value) == {"Fn::Sub"}:
                return re.sub(r"\$\{([^}]+)\}", lambda m: str(self.params.get(m.group(1)) or self.refs[m.group(1)]),
                              value["Fn::Sub"])
            if set(value) == {"Fn::GetAtt"}:
                logical, attr = value["Fn::GetAtt"]
                if attr == "QueueName":
                    return self.refs[logical].rsplit("/", 1)[-1]
                if attr != "Arn":
                    raise ValueError(f"unsupported attribute {attr}")
                return self.arns[logical]
            return {k: self.resolve(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(v) for v in value]
        return value

    # --- resources ----------------------------------------------------------------------

    def apply(self, template: dict[str, Any]) -> dict[str, str]:
        for logical, resource in template["Resources"].items():
            props = self.resolve(resource.get("Properties", {}))
            handler = getattr(self, "_" + resource["Type"].replace("::", "_").lower())
            handler(logical, props, template)
        return {name: self.resolve(out["Value"]) for name, out in template.get("Outputs", {}).items()}

    def _aws_dynamodb_table(self, logical: str, props: dict[str, Any], _t: dict) -> None:
        ddb = self.clients["dynamodb"]
        name = props["TableName"]
        existing = ddb.list_tables()["TableNames"]
        if name not in existing:
            args = {k: props[k] for k in ("TableName", "BillingMode", "AttributeDefinitions", "KeySchema",
                                          "GlobalSecondaryIndexes") if k in props}
            ddb.create_table(**args)
            ddb.get_waiter("table_exists").wait(TableName=name, WaiterConfig={"Delay": 0.2, "MaxAttempts": 50})
        ttl = props.get("TimeToLiveSpecification")
        if ttl:
            current = ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
            if current.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
                ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
        self.refs[logical] = name
        self.arns[logical] = f"arn:aws:dynamodb:{self.region}:{ACCOUNT_ID}:table/{name}"

    def _aws_sqs_queue(self, logical: str, props: dict[str, Any], _t: dict) -> None:
        sqs = self.clients["sqs"]
        attributes = {k: (json.dumps(v) if isinstance(v, dict) else str(v))
                      for k, v in props.items() if k != "QueueName"}
        url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        self.refs[logical], self.arns[logical] = url, arn

    def _aws_sns_topic(self, logical: str, props: dict[str, Any], _t: dict) -> None:
        arn = self.clients["sns"].create_topic(Name=props["TopicName"])["TopicArn"]
        self.refs[logical], self.arns[logical] = arn, arn

    def _aws_s3_bucket(self, logical: str, props: dict[str, Any], _t: dict) -> None:
        s3 = self.clients["s3"]
        name = props["BucketName"]
        if name not in {b["Name"] for b in s3.list_buckets().get("Buckets", [])}:
            s3.create_bucket(Bucket=name)
            if "PublicAccessBlockConfiguration" in props:
                s3.put_public_access_block(
                    Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"]
                )
        self.refs[logical], self.arns[logical] = name, f"arn:aws:s3:::{name}"
        if "NotificationConfiguration" in props:  # CloudFormation on moto ignores it: apply it here
            s3.put_bucket_notification_configuration(
                Bucket=name, NotificationConfiguration=_notification(props["NotificationConfiguration"]))

    def _aws_sqs_queuepolicy(self, logical: str, props: dict[str, Any], _t: dict) -> None:
        for url in props["Queues"]:
            self.clients["sqs"].set_queue_attributes(QueueUrl=url,
                                                     Attributes={"Policy": json.dumps(props["PolicyDocument"])})

    def _aws_kms_key(self, logical: str, props: dict[str, Any], template: dict) -> None:
        """A key is identified locally by the alias that targets it, so a restart reuses it."""
        kms = self.clients["kms"]
        alias = next(
            (self.resolve(r["Properties"]["AliasName"]) for r in template["Resources"].values()
             if r["Type"] == "AWS::KMS::Alias" and r["Properties"].get("TargetKeyId") == {"Ref": logical}),
            None,
        )
        existing = {a["AliasName"]: a.get("TargetKeyId") for a in kms.list_aliases()["Aliases"]}
        key_id = existing.get(alias) if alias else None
        if not key_id:
            key_id = kms.create_key(Description=props.get("Description", ""))["KeyMetadata"]["KeyId"]
        self.refs[logical] = key_id
        self.arns[logical] = f"arn:aws:kms:{self.region}:{ACCOUNT_ID}:key/{key_id}"

    def _aws_kms_alias(self, logical: str, props: dict[str, Any], _t: dict) -> None:
        kms = self.clients["kms"]
        existing = {a["AliasName"] for a in kms.list_aliases()["Aliases"]}
        if props["AliasName"] not in existing:
            kms.create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        self.refs[logical] = props["AliasName"]


def _notification(cfn: dict[str, Any]) -> dict[str, Any]:
    """A bucket's NotificationConfiguration in CloudFormation's shape, in the S3 API's shape."""
    return {"QueueConfigurations": [
        {"QueueArn": q["Queue"], "Events": [q["Event"]],
         **({"Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}}} if "Filter" in q else {})}
        for q in cfn.get("QueueConfigurations", [])
    ]}


def provision(endpoint_url: str | None, region: str, stage: str,
              parameters: dict[str, str] | None = None) -> dict[str, str]:
    """`parameters` override the template's parameter defaults (Stage comes from `stage`)."""
    import boto3

    template = load_template()
    values = {name: str(spec["Default"]) for name, spec in (template.get("Parameters") or {}).items()
              if "Default" in spec and name != "Stage"}
    values.update(parameters or {})
    return Provisioner(boto3.session.Session(), endpoint_url, region, stage, values).apply(template)
