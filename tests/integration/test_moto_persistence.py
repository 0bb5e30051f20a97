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


def _items_and_transactions(dynamodb) -> list:
    """Index Queries of every shape, transactions that succeed, fail midway and repeat a key, and
    the table read back after each: every attribute type, items without the index's keys."""
    dynamodb.create_table(
        TableName="txs",
        AttributeDefinitions=[{"AttributeName": n, "AttributeType": t}
                              for n, t in (("pk", "S"), ("sk", "S"), ("g", "S"), ("gs", "S"), ("num", "N"))],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        GlobalSecondaryIndexes=[
            {"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
             "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}, {"AttributeName": "gs", "KeyType": "RANGE"}]},
            {"IndexName": "by-num", "Projection": {"ProjectionType": "KEYS_ONLY"},
             "KeySchema": [{"AttributeName": "num", "KeyType": "HASH"}]}],
        BillingMode="PAY_PER_REQUEST",
    )
    rich = {"b": {"B": b"\x00\xffraw"}, "bs": {"BS": [b"x", b"y"]}, "ns": {"NS": ["1", "2.5"]}, "ss": {"SS": ["a"]},
            "m": {"M": {"n": {"NULL": True}, "in": {"B": b"z"}, "l": {"L": [{"BOOL": False}, {"N": "-3"}]}}}}
    for p in ("a", "b"):
        for n in (3, 1, 2):
            item = {"pk": {"S": p}, "sk": {"S": f"{n}"}, "num": {"N": str(n)}, **rich}
            if n != 2:  # absent from by-g, as in DynamoDB
                item |= {"g": {"S": "G" if p == "a" else "H"}, "gs": {"S": f"{p}{n}"}}
            dynamodb.put_item(TableName="txs", Item=item)

    def scan():
        return sorted(dynamodb.scan(TableName="txs")["Items"], key=lambda i: (i["pk"]["S"], i["sk"]["S"]))

    def outcome(**kw):
        try:
            dynamodb.transact_write_items(**kw)
            return "ok", scan()
        except dynamodb.exceptions.ClientError as e:
            return e.response["Error"]["Code"], e.response.get("CancellationReasons"), scan()

    query = lambda **kw: dynamodb.query(TableName="txs", **kw)  # noqa: E731
    first = query(IndexName="by-g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "G"}},
                  Limit=1)
    put = lambda pk, cond=None: {"Put": {"TableName": "txs", "Item": {"pk": {"S": pk}, "sk": {"S": "1"}, **rich},  # noqa: E731
                                         **({"ConditionExpression": cond} if cond else {})}}
    bump = {"Update": {"TableName": "txs", "Key": {"pk": {"S": "a"}, "sk": {"S": "1"}},
                       "UpdateExpression": "SET num = num + :one", "ExpressionAttributeValues": {":one": {"N": "1"}}}}
    fails = {"ConditionCheck": {"TableName": "txs", "Key": {"pk": {"S": "b"}, "sk": {"S": "3"}},
                                "ConditionExpression": "attribute_not_exists(pk)",
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}}
    delete = {"Delete": {"TableName": "txs", "Key": {"pk": {"S": "b"}, "sk": {"S": "1"}}}}
    return [
        query(IndexName="by-g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "G"}})["Items"],
        query(IndexName="by-g", KeyConditionExpression="g = :g AND gs > :s", ScanIndexForward=False,
              ExpressionAttributeValues={":g": {"S": "H"}, ":s": {"S": "b1"}})["Items"],
        first["Items"] + query(IndexName="by-g", KeyConditionExpression="g = :g", ExclusiveStartKey=first["LastEvaluatedKey"],
                               ExpressionAttributeValues={":g": {"S": "G"}})["Items"],
        query(IndexName="by-g", KeyConditionExpression="g = :g", FilterExpression="num > :n",
              ExpressionAttributeValues={":g": {"S": "G"}, ":n": {"N": "1"}})["Items"],
        query(IndexName="by-num", KeyConditionExpression="num = :n", ExpressionAttributeValues={":n": {"N": "2.0"}})["Items"],
        query(IndexName="by-g", KeyConditionExpression="g = :g", ExpressionAttributeValues={":g": {"S": "none"}})["Items"],
        dynamodb.get_item(TableName="txs", Key={"pk": {"S": "a"}, "sk": {"S": "3"}})["Item"],
        dynamodb.update_item(TableName="txs", Key={"pk": {"S": "a"}, "sk": {"S": "3"}}, ReturnValues="ALL_NEW",
                             UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"L": []}},
                             ReturnConsumedCapacity="INDEXES"),
        dynamodb.update_item(TableName="txs", Key={"pk": {"S": "a"}, "sk": {"S": "3"}}, ReturnValues="UPDATED_OLD",
                             UpdateExpression="SET note = :n", ExpressionAttributeValues={":n": {"M": {}}}),
        dynamodb.put_item(TableName="txs", Item={"pk": {"S": "c"}, "sk": {"S": "1"}, **rich}, ReturnValues="ALL_OLD",
                          ReturnConsumedCapacity="TOTAL"),
        dynamodb.delete_item(TableName="txs", Key={"pk": {"S": "c"}, "sk": {"S": "1"}}, ReturnValues="ALL_OLD"),
        dynamodb.batch_write_item(RequestItems={"txs": [{"PutRequest": {"Item": {"pk": {"S": "d"}, "sk": {"S": "1"}}}}]}),
        dynamodb.batch_get_item(RequestItems={"txs": {"Keys": [{"pk": {"S": p}, "sk": {"S": "1"}} for p in "abd"]}}),
        outcome(TransactItems=[put("new"), bump]),  # commits
        outcome(TransactItems=[put("newer"), bump, delete, fails]),  # fails on its last item: nothing stays
        outcome(TransactItems=[put("new", "attribute_not_exists(pk)"), bump]),  # fails on its first item
        outcome(TransactItems=[bump, bump]),  # the same key twice
        outcome(TransactItems=[put("x"), {"Put": {"TableName": "missing", "Item": {"pk": {"S": "x"}}}}]),
    ]


def test_index_queries_and_transactions_on_the_launcher_answer_as_moto_does(launch, tmp_path):
    """The launcher filters an index Query before sorting, rolls a cancelled transaction back from
    copies of its items (moto copies whole tables) and writes item results as plain JSON: same
    items, order, pages, errors, cancellation reasons and table contents as moto's own answer."""
    from moto import mock_aws

    _, url = launch(tmp_path / "state")
    served = _items_and_transactions(_clients(url)["dynamodb"])
    with mock_aws():
        expected = _items_and_transactions(boto3.client("dynamodb", **AWS))
    for answer in served + expected:
        if isinstance(answer, dict):
            answer.pop("ResponseMetadata", None)  # request ids and server headers differ
    assert served == expected
    outcomes = served[-5:]
    assert len(served[0]) == 2 and outcomes[0][0] == "ok"
    assert [o[0] for o in outcomes[1:]] == ["TransactionCanceledException"] * 2 + ["ValidationException",
                                                                                  "ResourceNotFoundException"]
    assert outcomes[1][2] == outcomes[0][1]  # the failed transaction left the table as the last commit did


def _raw(sock, request: bytes) -> tuple[bytes, bytes]:
    """Send one request, read one response (Content-Length framed): (head, body)."""
    sock.sendall(request)
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536) or pytest.fail(f"connection closed after {data!r}")
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(next(line.split(b":")[1] for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")))
    while len(body) < length:
        body += sock.recv(65536) or pytest.fail("connection closed mid-body")
    return head, body


def test_one_connection_serves_request_after_request(launch, tmp_path):
    """HTTP/1.1 keep-alive (werkzeug's server closes after every response): bodies are framed so
    the next request is read whole, a `100 Continue` is answered before the body, and a chunked
    request still closes its connection."""
    import socket

    _, url = launch(tmp_path / "state")
    _clients(url)["s3"].create_bucket(Bucket="kept")
    auth = b"Authorization: AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/s3/aws4_request, " \
           b"SignedHeaders=host, Signature=0\r\n"
    host = url.removeprefix("http://").encode()
    body = os.urandom(300_000)
    with socket.create_connection(tuple(url.removeprefix("http://").split(":")), timeout=30) as sock:
        sock.sendall(b"PUT /kept/big HTTP/1.1\r\nHost: " + host + b"\r\n" + auth +
                     b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        assert sock.recv(4096).startswith(b"HTTP/1.1 100")  # before the body is sent
        head, _ = _raw(sock, body)
        assert head.startswith(b"HTTP/1.1 200") and b"connection: close" not in head.lower()
        for _ in range(2):  # the same socket: the server kept it open and framed the body
            head, got = _raw(sock, b"GET /kept/big HTTP/1.1\r\nHost: " + host + b"\r\n" + auth + b"\r\n")
            assert head.startswith(b"HTTP/1.1 200") and got == body
    with socket.create_connection(tuple(url.removeprefix("http://").split(":")), timeout=30) as sock:
        head, _ = _raw(sock, b"PUT /kept/chunked HTTP/1.1\r\nHost: " + host + b"\r\n" + auth +
                       b"Transfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
        assert b"connection: close" in head.lower()
