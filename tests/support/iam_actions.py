"""IAM actions: what a botocore call needs in AWS, what moto's IAM enforcement checks, and a recorder.

AWS authorizes a call by IAM actions that are mostly, not always, `<signing name>:<operation>`;
moto's enforcement checks exactly `<signing name>:<operation>` and matches Resource only for SQS,
S3, IAM and STS. So a policy written for AWS is turned into the policy a moto user gets
(`for_moto`), and each recorded call is turned into the IAM actions AWS would check
(`required_actions`).
"""
from __future__ import annotations

import contextlib
import copy
import threading
from typing import Any, Iterator

# IAM's service prefix where botocore's signing name differs.
PREFIX = {"monitoring": "cloudwatch"}

# Calls AWS authorizes under another action than their own name.
AUTHORIZED_AS = {
    "s3:HeadBucket": ("s3:ListBucket",),
    "s3:HeadObject": ("s3:GetObject",),
    "dynamodb:TransactGetItems": ("dynamodb:GetItem",),
    # SQS's batch calls are authorized by their single-message action (moto checks the batch name)
    "sqs:SendMessageBatch": ("sqs:SendMessage",),
    "sqs:DeleteMessageBatch": ("sqs:DeleteMessage",),
    "sqs:ChangeMessageVisibilityBatch": ("sqs:ChangeMessageVisibility",),
    "execute-api:PostToConnection": ("execute-api:ManageConnections",),
    "execute-api:DeleteConnection": ("execute-api:ManageConnections",),
}
TRANSACT_ITEM = {"Put": "dynamodb:PutItem", "Update": "dynamodb:UpdateItem", "Delete": "dynamodb:DeleteItem",
                 "ConditionCheck": "dynamodb:ConditionCheckItem"}
# A call that tags what it creates also needs the service's tagging action.
TAGGING = {
    "secretsmanager:CreateSecret": ("Tags", "secretsmanager:TagResource"),
    "ecs:RegisterTaskDefinition": ("tags", "ecs:TagResource"),
    "ecs:RunTask": ("tags", "ecs:TagResource"),
}

# Services whose statements moto matches against the request's resource; for every other service
# moto only matches Resource "*", so their statements are widened for the moto user.
RESOURCE_CHECKED = {"sqs", "s3", "iam", "sts"}
# moto's SQS resolves GetQueueUrl's resource from a QueueUrl parameter it does not have: "*".
WIDENED_ACTIONS = {"sqs:GetQueueUrl"}


def required_actions(signing_name: str, operation: str, params: dict[str, Any]) -> set[str]:
    """The IAM actions AWS checks for one call with these parameters."""
    call = f"{signing_name}:{operation}"
    if call == "dynamodb:TransactWriteItems":
        return {TRANSACT_ITEM[kind] for item in params.get("TransactItems", []) for kind in item}
    actions = set(AUTHORIZED_AS.get(call, (f"{PREFIX.get(signing_name, signing_name)}:{operation}",)))
    key, tagging = TAGGING.get(call, (None, None))
    if key and params.get(key):
        actions.add(tagging)
    if call == "ecs:RegisterTaskDefinition" and (params.get("executionRoleArn") or params.get("taskRoleArn")):
        actions.add("iam:PassRole")  # ECS takes the roles on the caller's word
    return actions


def moto_names(action: str) -> set[str]:
    """The names moto checks for an IAM action (its own and those of calls AWS authorizes under it)."""
    names = {action}
    prefix, _, name = action.partition(":")
    names |= {f"{signing}:{name}" for signing, iam in PREFIX.items() if iam == prefix}
    names |= {call for call, authorized in AUTHORIZED_AS.items() if action in authorized}
    if action in TRANSACT_ITEM.values():
        names.add("dynamodb:TransactWriteItems")
    return names


def actions_of(document: dict[str, Any]) -> set[str]:
    """Every action the Allow statements of a policy document name."""
    found: set[str] = set()
    for statement in _statements(document):
        if statement["Effect"] == "Allow":
            found |= set(_as_list(statement["Action"]))
    return found


def for_moto(document: dict[str, Any]) -> dict[str, Any]:
    """The policy a moto user gets for an AWS policy: moto's action names, Resource widened to "*"
    where moto does not match it, and no Condition (moto evaluates none of these keys and denies)."""
    result = copy.deepcopy(document)
    result["Statement"] = []
    for statement in _statements(document):
        actions = sorted({name for action in _as_list(statement["Action"]) for name in moto_names(action)})
        widened = [a for a in actions if a.split(":")[0] not in RESOURCE_CHECKED or a in WIDENED_ACTIONS]
        kept = [a for a in actions if a not in widened]
        base = {k: v for k, v in statement.items() if k not in ("Action", "Resource", "Condition", "Sid")}
        if kept:
            result["Statement"].append({**base, "Action": kept, "Resource": statement["Resource"]})
        if widened:
            result["Statement"].append({**base, "Action": widened, "Resource": "*"})
    return result


def _statements(document: dict[str, Any]) -> list[dict[str, Any]]:
    return _as_list(document["Statement"])


def _as_list(value: Any) -> list:
    return value if isinstance(value, list) else [value]


class Recorder:
    """Every AWS call made by clients that sign with `access_key`, as IAM actions.

    Hooks botocore's `provide-client-params` of every client created while recording (boto3's and
    PynamoDB's alike), so calls are seen with their parameters before they are sent, presigned URLs
    included (AWS authorizes a presigned URL as its signer's call), and the signer of the
    @connections API's own client.
    """

    def __init__(self, access_key: str):
        self.access_key = access_key
        self.actions: dict[str, set[str]] = {}  # IAM action -> the calls that needed it
        self.denied: list[str] = []  # "<call>: <error code>" of every call refused for want of permission
        self._lock = threading.Lock()

    def _record(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        signing = model.service_model.signing_name
        with self._lock:
            for action in required_actions(signing, model.name, params):
                self.actions.setdefault(action, set()).add(f"{signing}:{model.name}")

    def _check(self, http_response: Any, parsed: dict[str, Any], model: Any, **_: Any) -> None:
        # moto answers some JSON services' denials in XML, which botocore reads as code "403"
        code = str((parsed.get("Error") or {}).get("Code", ""))
        if http_response.status_code == 403 or "AccessDenied" in code:
            with self._lock:
                signing = model.service_model.signing_name
                needed = sorted(required_actions(signing, model.name, {}))
                self.denied.append(f"{signing}:{model.name} ({code}) needs {', '.join(needed)}")

    @contextlib.contextmanager
    def denials_named(self) -> Iterator[None]:
        """Any failure inside says first which calls were denied: the policy misses their actions."""
        try:
            yield
        except BaseException as e:
            if self.denied:
                raise AssertionError(f"denied by the functions' policy: {self.denied}") from e
            raise
        assert not self.denied, f"denied by the functions' policy (and handled): {self.denied}"

    @contextlib.contextmanager
    def recording(self) -> Iterator["Recorder"]:
        import botocore.session

        original = botocore.session.Session.create_client
        recorder = self

        def create_client(session: Any, *args: Any, **kwargs: Any) -> Any:
            client = original(session, *args, **kwargs)
            credentials = client._request_signer._credentials
            if credentials is not None and credentials.access_key == recorder.access_key:
                client.meta.events.register("provide-client-params.*.*", recorder._record)
                client.meta.events.register("after-call.*.*", recorder._check)
            return client

        # The @connections API's batches are signed by chalicelib's own SigV4 (connections_api), not
        # by a botocore client: each hand-off, signed with these keys, is a PostToConnection.
        from chalicelib.services.live.connections_api import ConnectionsApi

        original_signer = ConnectionsApi._new_signer

        def new_signer(api: Any) -> Any:
            signer = original_signer(api)
            if signer and signer.credentials.access_key == recorder.access_key:
                with recorder._lock:
                    for action in required_actions("execute-api", "PostToConnection", {}):
                        recorder.actions.setdefault(action, set()).add("execute-api:PostToConnection")
            return signer

        botocore.session.Session.create_client = create_client
        ConnectionsApi._new_signer = new_signer
        try:
            yield self
        finally:
            botocore.session.Session.create_client = original
            ConnectionsApi._new_signer = original_signer
