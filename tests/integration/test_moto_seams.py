"""The local moto's speed patches still take hold of moto (a fresh process, moto's in-process mock).

tests/integration/test_moto_persistence.py holds the launcher's answers to moto's own; these fail
when a moto upgrade moves a seam so that a patch silently stops working (correct, but slow again).
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

PROBE = r'''
import os
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
import boto3
from moto import mock_aws
from moto.core.serialize import JSONSerializer
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import Table
from local_stack import moto_dispatch, moto_dynamodb

moto_dynamodb.patch()
moto_dispatch.patch()
read, walked = [], []
scoped_all_items, shape_walk = Table.all_items, JSONSerializer._serialized_result_to_response
Table.all_items = lambda self: read.append(len(scoped_all_items(self))) or scoped_all_items(self)
JSONSerializer._serialized_result_to_response = (  # the end of moto's own shape walk
    lambda self, *args: walked.append(self.operation_name) or shape_walk(self, *args))

with mock_aws():
    db = boto3.client("dynamodb", region_name="us-east-1")
    db.create_table(TableName="t", BillingMode="PAY_PER_REQUEST",
                    AttributeDefinitions=[{"AttributeName": n, "AttributeType": "S"} for n in ("pk", "g")],
                    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                    GlobalSecondaryIndexes=[{"IndexName": "by-g", "Projection": {"ProjectionType": "ALL"},
                                             "KeySchema": [{"AttributeName": "g", "KeyType": "HASH"}]}])
    for n in range(10):
        db.put_item(TableName="t", Item={"pk": {"S": str(n)}, "g": {"S": "yes" if n < 2 else "no"}})
    db.query(TableName="t", IndexName="by-g", KeyConditionExpression="g = :g",
             ExpressionAttributeValues={":g": {"S": "yes"}})
    db.query(TableName="t", KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": "3"}})
    table = dynamodb_backends["123456789012"]["us-east-1"].tables["t"]
    try:
        db.transact_write_items(TransactItems=[
            {"Put": {"TableName": "t", "Item": {"pk": {"S": "new"}}}},
            {"ConditionCheck": {"TableName": "t", "Key": {"pk": {"S": "0"}},
                                "ConditionExpression": "attribute_not_exists(pk)"}}])
    except db.exceptions.TransactionCanceledException:
        pass
    print("index query read", read[0], "items; key query read", read[1])
    print("table kept after the cancelled transaction:", dynamodb_backends["123456789012"]["us-east-1"].tables["t"] is table)
    print("new item rolled back:", "Item" not in db.get_item(TableName="t", Key={"pk": {"S": "new"}}))
    print("item results through moto's shape walk:", sorted(set(walked) & {"PutItem", "Query", "GetItem"}))

from moto import backends
from moto.core import responses
print("module list taken once:", backends.list_of_moto_modules() is backends.list_of_moto_modules())
print("handler names cached:", responses.method_names_from_class(Table) is responses.method_names_from_class(Table))
from moto.moto_api._internal import mock_random
from moto.utilities.aws_headers import gen_amzn_requestid_long
mock_random.seed(7)
first = [gen_amzn_requestid_long(), mock_random.get_random_string(8, include_digits=False, lower_case=True)]
mock_random.seed(7)
again = [gen_amzn_requestid_long(), mock_random.get_random_string(8, include_digits=False, lower_case=True)]
print("random strings drawn at once, still seeded:",
      type(mock_random).get_random_string.__module__ == "local_stack.moto_dispatch", first == again,
      len(first[0]), first[0].isalnum(), first[1].isalpha() and first[1].islower())
'''


def test_the_speed_patches_take_hold_of_moto():
    out = subprocess.run([sys.executable, "-c", PROBE], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.splitlines() == [
        "index query read 2 items; key query read 1",  # moto reads all 10 for either
        "table kept after the cancelled transaction: True",  # moto swaps in its deep copy
        "new item rolled back: True",
        "item results through moto's shape walk: []",
        "module list taken once: True",
        "handler names cached: True",
        "random strings drawn at once, still seeded: True True 52 True True",
    ]
