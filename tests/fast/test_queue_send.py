"""Sending work: a queue's URL is asked once, and a send that failed does not keep a stale one."""
from __future__ import annotations

import json


def test_work_sent_after_the_queue_came_back_reaches_it(api):
    from chalicelib import aws, queues

    sqs = aws.client("sqs")
    name = "fast-queue-send-check"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    assert queues.send(name, {"n": 1})
    sqs.delete_queue(QueueUrl=url)
    assert not queues.send(name, {"n": 2}), "a missing queue is reported, so the reaper re-sends"
    url = sqs.create_queue(QueueName=name)["QueueUrl"]
    try:
        assert queues.send(name, {"n": 3})
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [json.loads(m["Body"]) for m in got] == [{"n": 3}]
    finally:
        sqs.delete_queue(QueueUrl=url)
