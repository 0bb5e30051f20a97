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
