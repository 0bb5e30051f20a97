"""How calls become IAM actions and an AWS policy becomes a moto user's (tests/support/iam_actions.py),
on which the IAM-enforced test's verdicts rest."""
from __future__ import annotations

from tests.support.iam_actions import for_moto, required_actions


def test_calls_are_authorized_as_iam_names_them():
    assert required_actions("s3", "HeadBucket", {}) == {"s3:ListBucket"}
    assert required_actions("s3", "HeadObject", {}) == {"s3:GetObject"}
    assert required_actions("monitoring", "GetMetricData", {}) == {"cloudwatch:GetMetricData"}
    assert required_actions("execute-api", "PostToConnection", {}) == {"execute-api:ManageConnections"}
    assert required_actions("sqs", "SendMessageBatch", {}) == {"sqs:SendMessage"}
    items = [{"Put": {}}, {"Update": {}}, {"Put": {}}]
    assert required_actions("dynamodb", "TransactWriteItems", {"TransactItems": items}) == {
        "dynamodb:PutItem", "dynamodb:UpdateItem"}


def test_tags_and_roles_a_call_passes_need_their_own_actions():
    assert required_actions("secretsmanager", "CreateSecret", {"Name": "x"}) == {"secretsmanager:CreateSecret"}
    assert required_actions("secretsmanager", "CreateSecret", {"Tags": [{"Key": "k", "Value": "v"}]}) == {
        "secretsmanager:CreateSecret", "secretsmanager:TagResource"}
    assert required_actions("ecs", "RegisterTaskDefinition", {"taskRoleArn": "arn:aws:iam::1:role/r",
                                                               "tags": [{"key": "k", "value": "v"}]}) == {
        "ecs:RegisterTaskDefinition", "ecs:TagResource", "iam:PassRole"}


def test_a_moto_user_gets_moto_names_and_resources_moto_can_match():
    policy = {"Version": "2012-10-17", "Statement": [
        {"Sid": "S", "Effect": "Allow", "Action": ["s3:ListBucket", "s3:GetObject"], "Resource": "arn:aws:s3:::b"},
        {"Effect": "Allow", "Action": ["dynamodb:PutItem", "cloudwatch:GetMetricData"], "Resource": "arn:aws:dynamodb:t",
         "Condition": {"StringEquals": {"k": "v"}}},
    ]}
    statements = for_moto(policy)["Statement"]
    assert {"Effect": "Allow", "Action": ["s3:GetObject", "s3:HeadBucket", "s3:HeadObject", "s3:ListBucket"],
            "Resource": "arn:aws:s3:::b"} in statements
    widened = [s for s in statements if s["Resource"] == "*"]
    assert widened == [{"Effect": "Allow", "Action": [
        "cloudwatch:GetMetricData", "dynamodb:PutItem", "dynamodb:TransactWriteItems", "monitoring:GetMetricData"],
        "Resource": "*"}]


def test_a_moto_user_granted_sendmessage_may_send_in_batch_as_in_aws():
    queue = "arn:aws:sqs:us-east-1:1:mastra-admin-dev-shards"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["sqs:SendMessage"], "Resource": queue}]}
    assert for_moto(policy)["Statement"] == [
        {"Effect": "Allow", "Action": ["sqs:SendMessage", "sqs:SendMessageBatch"], "Resource": queue}]
