"""The local moto's request routing, with the lookups moto repeats on every request taken once.

Each answer below depends only on moto's code, which does not change while the server runs:
* the list of moto's service packages (a listdir and ~150 isdir calls per request, to route it);
* a handler class's method names (inspect.getmembers over the class, per request);
* a CamelCase action or attribute name in snake_case (a character loop, per request, and per
  attribute of every SQS queue read).

And one that is only made cheaper: moto draws every random string (the 52 characters of each
answer's request id, among others) one `random.choice` at a time; `random.choices` draws the same
kind of string from the same generator (so a seeded moto stays repeatable) at a fraction of the cost.
"""
from __future__ import annotations

import functools
import string
from typing import Any


def patch() -> None:
    """Install the caches (idempotent)."""
    from moto import backends
    from moto.core import responses
    from moto.moto_api._internal.moto_random import MotoRandom
    from moto.sqs import models as sqs_models

    if getattr(backends, "_local_stack_patched", False):
        return
    modules = tuple(backends.list_of_moto_modules())
    backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]

    method_names = responses.method_names_from_class

    @functools.lru_cache(maxsize=None)
    def cached_method_names(clazz: Any) -> frozenset[str]:  # used only for `action in names`
        return frozenset(method_names(clazz))

    responses.method_names_from_class = cached_method_names  # type: ignore[assignment]
    snake = functools.lru_cache(maxsize=4096)(responses.camelcase_to_underscores)
    responses.camelcase_to_underscores = snake  # type: ignore[assignment]
    sqs_models.camelcase_to_underscores = snake  # type: ignore[assignment]
    pools = {True: string.ascii_letters + string.digits, False: string.ascii_letters}

    def get_random_string(self: Any, length: int = 20, include_digits: bool = True, lower_case: bool = False) -> str:
        text = "".join(self.choices(pools[bool(include_digits)], k=length))
        return text.lower() if lower_case else text

    MotoRandom.get_random_string = get_random_string  # type: ignore[method-assign]
    backends._local_stack_patched = True  # type: ignore[attr-defined]
