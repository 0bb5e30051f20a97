"""The local moto's request routing, with the lookups moto repeats on every request taken once.

Each answer below depends only on moto's code, which does not change while the server runs:
* the list of moto's service packages (a listdir and ~150 isdir calls per request, to route it);
* a handler class's method names (inspect.getmembers over the class, per request);
* a CamelCase action or attribute name in snake_case (a character loop, per request, and per
  attribute of every SQS queue read).
"""
from __future__ import annotations

import functools
from typing import Any


def patch() -> None:
    """Install the caches (idempotent)."""
    from moto import backends
    from moto.core import responses
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
    backends._local_stack_patched = True  # type: ignore[attr-defined]
