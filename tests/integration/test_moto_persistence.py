"""The local moto launcher keeps state across a SIGKILL + restart (real subprocesses, real HTTP)."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from boto3.dynamodb.conditions import Key

from tests.support.local_aws import free_port

REPO = Path(__file__).resolve().parents[2]
RECORDING = "recording.jsonl"  # local_stack.moto_launcher.RECORDING_FILE
AWS = dict(region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing",
           aws_session_token="testing")


@pytest.fixture
def launch(tmp_path):
    """Start launchers; every one is killed (whole process group) at teardown."""
    procs: list[subprocess.Popen] = []

    def start(state_dir: Path, timeout: float = 15.0) -> tuple[subprocess.Popen, str]:
        port = free_port()
        log = open(tmp_path / f"launcher-{len(procs)}.log", "wb")
        proc = subprocess.Popen(
            [sys.executable, "-m", "local_stack.moto_launcher",
             "--host", "127.0.0.1", "--port", str(port), "--state-dir", str(state_dir)],
            cwd=REPO, stdout=subprocess.PIPE, stderr=log, start_new_session=True, text=True,
        )
        procs.append(proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if select.select([proc.stdout], [], [], 0.2)[0]:
                line = proc.stdout.readline()
                if line:
                    assert line == f"moto ready http://127.0.0.1:{port}\n"
                    return proc, f"http://127.0.0.1:{port}"
                break  # EOF: the launcher died
        pytest.fail(f"launcher not ready (rc={proc.poll()}):\n{Path(log.name).read_text()}")

    yield start
    for proc in procs:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc.stdout.close()


def _clients(url: str):
    return {name: boto3.client(name, endpoint_url=url, **AWS) for name in ("dynamodb", "s3", "sqs", "kms")}


def test_state_survives_sigkill_and_reads_are_not_recorded(launch, tmp_path):
    state = tmp_path / "state" / "nested"  # does not exist yet
    proc, url = launch(state)
    c = _clients(url)

    c["dynamodb"].create_table(
        TableName="things",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                              {"AttributeName": "owner", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-owner",
                                 "KeySchema": [{"AttributeName": "owner", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
    )
    table = boto3.resource("dynamodb", endpoint_url=url, **AWS).Table("things")
    table.put_item(Item={"pk": "a", "owner": "alice", "n": 1})
    table.put_item(Item={"pk": "b", "owner": "bob", "n": 2})
    table.update_item(Key={"pk": "a"}, UpdateExpression="SET n = n + :one",
                      ExpressionAttributeValues={":one": 1})

    c["s3"].create_bucket(Bucket="blobs")
    payload = os.urandom(2048) + b"/tail"
    c["s3"].put_object(Bucket="blobs", Key="dir/file.bin", Body=payload)

    dlq_url = c["sqs"].create_queue(QueueName="jobs-dlq")["QueueUrl"]
    dlq_arn = c["sqs"].get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    redrive = json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "3"})
    queue_url = c["sqs"].create_queue(QueueName="jobs", Attributes={"RedrivePolicy": redrive})["QueueUrl"]
    c["sqs"].send_message(QueueUrl=queue_url, MessageBody="hello")
    before = c["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(before["RedrivePolicy"])["deadLetterTargetArn"] == dlq_arn

    key_id = c["kms"].create_key(Description="tenant data")["KeyMetadata"]["KeyId"]
    c["kms"].create_alias(AliasName="alias/tenant-data", TargetKeyId=key_id)
    ctx = {"tenant": "t-1"}
    dk = c["kms"].generate_data_key(KeyId="alias/tenant-data", KeySpec="AES_256", EncryptionContext=ctx)
    assert os.stat(state / "kms-keys.json").st_mode & 0o777 == 0o600

    # Reads (and KMS) must not grow the recording.
    size = (state / RECORDING).stat().st_size
    for _ in range(30):
        table.get_item(Key={"pk": "a"})
    table.query(IndexName="by-owner", KeyConditionExpression=Key("owner").eq("alice"))
    table.scan()
    c["s3"].get_object(Bucket="blobs", Key="dir/file.bin")["Body"].read()
    c["s3"].head_object(Bucket="blobs", Key="dir/file.bin")
    c["sqs"].get_queue_url(QueueName="jobs")
    c["kms"].encrypt(KeyId=key_id, Plaintext=b"x")
    assert (state / RECORDING).stat().st_size == size

    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)

    proc, url = launch(state)
    c = _clients(url)
    table = boto3.resource("dynamodb", endpoint_url=url, **AWS).Table("things")
    assert table.get_item(Key={"pk": "a"})["Item"] == {"pk": "a", "owner": "alice", "n": 2}
    by_owner = table.query(IndexName="by-owner", KeyConditionExpression=Key("owner").eq("bob"))["Items"]
    assert [i["pk"] for i in by_owner] == ["b"]

    assert c["s3"].get_object(Bucket="blobs", Key="dir/file.bin")["Body"].read() == payload

    queue_url = c["sqs"].get_queue_url(QueueName="jobs")["QueueUrl"]
    attrs = c["sqs"].get_queue_attributes(QueueUrl=queue_url, AttributeNames=["RedrivePolicy"])["Attributes"]
    assert json.loads(attrs["RedrivePolicy"]) == json.loads(before["RedrivePolicy"])
    msgs = c["sqs"].receive_message(QueueUrl=queue_url, WaitTimeSeconds=1)["Messages"]
    assert [m["Body"] for m in msgs] == ["hello"]

    out = c["kms"].decrypt(CiphertextBlob=dk["CiphertextBlob"], EncryptionContext=ctx)
    assert out["Plaintext"] == dk["Plaintext"]
    assert out["KeyId"].endswith(f":key/{key_id}")
    assert c["kms"].describe_key(KeyId="alias/tenant-data")["KeyMetadata"]["KeyId"] == key_id

    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def test_sigterm_exits_cleanly_with_empty_state(launch, tmp_path):
    proc, url = launch(tmp_path / "fresh")
    assert boto3.client("dynamodb", endpoint_url=url, **AWS).list_tables()["TableNames"] == []
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=10) == 0


def _visible_bodies(sqs, queue_url: str) -> dict[str, str]:
    """All currently visible messages as {MessageId: Body} (made visible again right after)."""
    msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
    for m in msgs:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=m["ReceiptHandle"], VisibilityTimeout=0)
    return {m["MessageId"]: m["Body"] for m in msgs}


def test_sqs_deletes_and_purges_survive_restarts(launch, tmp_path):
    state = tmp_path / "state"
    proc, url = launch(state)
    sqs = _clients(url)["sqs"]
    queue_url = sqs.create_queue(QueueName="work")["QueueUrl"]
    sent = {body: sqs.send_message(QueueUrl=queue_url, MessageBody=body)["MessageId"]
            for body in ("done-single", "done-batch", "pending")}
    msgs = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)["Messages"]
    by_body = {m["Body"]: m["ReceiptHandle"] for m in msgs}
    assert set(by_body) == set(sent)
    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=by_body["done-single"])
    out = sqs.delete_message_batch(QueueUrl=queue_url, Entries=[{"Id": "b", "ReceiptHandle": by_body["done-batch"]}])
    assert [e["Id"] for e in out["Successful"]] == ["b"] and not out.get("Failed")
    sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=by_body["pending"], VisibilityTimeout=0)

    purged_url = sqs.create_queue(QueueName="purged")["QueueUrl"]
    sqs.send_message(QueueUrl=purged_url, MessageBody="before-purge")
    sqs.purge_queue(QueueUrl=purged_url)
    after_id = sqs.send_message(QueueUrl=purged_url, MessageBody="after-purge")["MessageId"]

    for _ in range(2):  # the restored state must itself survive another restart
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        proc, url = launch(state)
        sqs = _clients(url)["sqs"]
        queue_url = sqs.get_queue_url(QueueName="work")["QueueUrl"]
        attrs = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
        assert attrs["Attributes"]["ApproximateNumberOfMessages"] == "1"
        assert _visible_bodies(sqs, queue_url) == {sent["pending"]: "pending"}
        purged_url = sqs.get_queue_url(QueueName="purged")["QueueUrl"]
        assert _visible_bodies(sqs, purged_url) == {after_id: "after-purge"}

    lines = [json.loads(line) for line in (state / RECORDING).read_text().splitlines()]
    assert [e["sqs"]["op"] for e in lines if "sqs" in e] == ["delete", "delete", "purge"]

    os.killpg(proc.pid, signal.SIGTERM)
    assert proc.wait(timeout=10) == 0


def _key_queries(dynamodb) -> list[list[dict]]:
    """A table of three partitions (and a GSI across them), then key Queries of every shape."""
    dynamodb.create_table(
        TableName="parts",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "sk", "g")],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[{"IndexName": "by-g", "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}],
                                 "Projection": {"ProjectionType": "ALL"}}],
        BillingMode="PAY_PER_REQUEST",
    )
    for p in ("a", "b", "c"):
        for n in (3, 1, 4, 10, 5, 9, 2):
            dynamodb.put_item(TableName="parts", Item={"pk": {"S": p}, "sk": {"S": f"{n:02d}"}, "g": {"S": "all"},
                                                       "n": {"N": str(n)}})
    query = lambda **kw: dynamodb.query(TableName="parts", **kw)  # noqa: E731
    pk = {":p": {"S": "b"}}
    first = query(KeyConditionExpression="pk = :p", ExpressionAttributeValues=pk, Limit=3)
    return [
        query(KeyConditionExpression="pk = :p", ExpressionAttributeValues=pk)["Items"],
        query(KeyConditionExpression="pk = :p", ExpressionAttributeValues=pk, ScanIndexForward=False)["Items"],
        query(KeyConditionExpression="pk = :p AND sk > :s", ExpressionAttributeValues={**pk, ":s": {"S": "03"}})["Items"],
        query(KeyConditionExpression="pk = :p", FilterExpression="n > :n",
              ExpressionAttributeValues={**pk, ":n": {"N": "4"}})["Items"],
        first["Items"] + query(KeyConditionExpression="pk = :p", ExpressionAttributeValues=pk,
                               ExclusiveStartKey=first["LastEvaluatedKey"])["Items"],
        query(KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "none"}})["Items"],
        query(IndexName="by-g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "all"}})["Items"],
    ]


def test_a_key_query_on_the_launcher_answers_as_moto_does(launch, tmp_path):
    """The launcher reads a key Query from its partition alone (moto sorts the whole table for it):
    same items, order, range conditions, filters and pages as moto's own answer."""
    from moto import mock_aws

    _, url = launch(tmp_path / "state")
    served = _key_queries(_clients(url)["dynamodb"])
    with mock_aws():
        expected = _key_queries(boto3.client("dynamodb", **AWS))
    assert served == expected
    assert len(served[0]) == 7 and [i["sk"]["S"] for i in served[1]][:2] == ["10", "09"] and len(served[6]) == 21
