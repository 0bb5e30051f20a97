"""The local router's target parsing: from the Host header or the /d/{slug}/ prefix. Pure, no sockets."""
from __future__ import annotations

from local_stack.router import split_target


def test_targets_come_from_the_host_or_the_path_prefix():
    assert split_target("my-app.localhost:3100", "/x?y=1") == ("my-app", "/x?y=1")
    assert split_target("127.0.0.1:3100", "/d/my-app/api/a?b") == ("my-app", "/api/a?b")
    assert split_target("127.0.0.1:3100", "/d/my-app") == ("my-app", "/")
    assert split_target("127.0.0.1:3100", "/d/my-app?q=1") == ("my-app", "/?q=1")
    assert split_target("a.b.localhost", "/") == (None, "/")
    assert split_target("127.0.0.1", "/") == (None, "/")
