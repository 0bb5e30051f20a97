"""Publishing to channels: every sink gets the stamped message; a failing sink harms no one."""
from __future__ import annotations

from chalicelib import channels


def test_every_sink_gets_the_message_even_when_one_fails():
    got = []

    def broken(channel, message):
        raise RuntimeError("gateway down")

    remove_broken = channels.add_sink(broken)
    remove_good = channels.add_sink(lambda channel, message: got.append((channel, message)))
    try:
        channels.publish("build:bld_x", {"type": "status", "status": "building"})
    finally:
        remove_broken()
        remove_good()
    assert got == [("build:bld_x", {"channel": "build:bld_x", "type": "status", "status": "building"})]
    channels.publish("build:bld_x", {"type": "status", "status": "failed"})
    assert len(got) == 1, "removed sinks get nothing more"


def test_a_held_block_hands_its_messages_to_the_batch_sinks_at_its_end_even_when_it_raises():
    one_at_a_time, batches, single_form_of_batch_sink = [], [], []
    remove_plain = channels.add_sink(lambda channel, message: one_at_a_time.append(channel))
    remove_batch = channels.add_sink(lambda channel, message: single_form_of_batch_sink.append(channel),
                                     many=lambda items: batches.append([channel for channel, _ in items]))
    try:
        try:
            with channels.held():
                channels.publish("server:s1", {"type": "health", "health": "healthy"})
                channels.publish("server:s2", {"type": "health", "health": "dead"})
                assert one_at_a_time == ["server:s1", "server:s2"], "sinks without a batch form get it at once"
                assert batches == [], "held until the block ends"
                raise RuntimeError("the shard's item raised")
        except RuntimeError:
            pass
        assert batches == [["server:s1", "server:s2"]], "flushed on the way out, in publish order"
        channels.publish("server:s3", {"type": "health", "health": "healthy"})
    finally:
        remove_plain()
        remove_batch()
    assert single_form_of_batch_sink == ["server:s3"], "outside a block a batch sink gets messages one by one"
    assert batches == [["server:s1", "server:s2"]]


def test_threads_running_in_a_copy_of_the_context_publish_into_the_held_block():
    import contextvars
    from concurrent.futures import ThreadPoolExecutor

    batches = []
    remove = channels.add_sink(lambda channel, message: None, many=batches.append)
    try:
        with channels.held(), ThreadPoolExecutor(max_workers=8) as pool:
            for future in [pool.submit(contextvars.copy_context().run, channels.publish, f"server:s{n}", {"n": n})
                           for n in range(40)]:
                future.result()
    finally:
        remove()
    assert len(batches) == 1
    assert sorted(message["n"] for _, message in batches[0]) == list(range(40))


def test_a_failing_batch_sink_harms_neither_the_block_nor_the_other_batch_sinks():
    got = []

    def broken(items):
        raise RuntimeError("gateway down")

    remove_broken = channels.add_sink(lambda channel, message: None, many=broken)
    remove_good = channels.add_sink(lambda channel, message: None, many=got.extend)
    try:
        with channels.held():
            channels.publish("server:s1", {"type": "health"})
    finally:
        remove_broken()
        remove_good()
    assert got == [("server:s1", {"channel": "server:s1", "type": "health"})]
