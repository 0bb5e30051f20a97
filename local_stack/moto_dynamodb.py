"""The local moto's DynamoDB patches: safe under concurrent requests, and cheap per call at fleet size.

moto's DynamoDB reads the whole table for most requests (a key Query sorts every item, an index Query
sorts every item then filters, a transaction deep-copies each table it touches once per item); at
the few thousand items of a running stack that is tens of milliseconds to seconds a call. Each
patch here keeps moto's answers and changes only what it reads or copies; tests/integration/
test_moto_persistence.py compares the patched server's answers with moto's own (`mock_aws`).
"""
from __future__ import annotations

import base64
import copy
import json
import threading
from typing import Any


def patch() -> None:
    """Install every patch (idempotent)."""
    from moto.dynamodb.models.table import Table

    if getattr(Table, "_local_stack_patched", False):
        return
    _serialize_requests()
    _scope_queries(Table)
    _undo_log_transactions()
    _plain_item_responses()
    Table._local_stack_patched = True  # type: ignore[attr-defined]


def _serialize_requests() -> None:
    """One DynamoDB request at a time. moto's TransactWriteItems copies tables while other request
    threads insert into them ("dictionary changed size during iteration", a 500): under concurrent
    load (make load) some transactions failed all their retries. DynamoDB in moto is CPU-bound under
    one GIL anyway, so a lock costs little."""
    from moto.dynamodb.responses import DynamoHandler

    lock = threading.Lock()
    call_action = DynamoHandler.call_action

    def serialized(self):
        with lock:
            return call_action(self)

    DynamoHandler.call_action = serialized


_query_scope = threading.local()  # what the Query running on this thread reads (see _scope_queries)


def _scope_queries(table_class: Any) -> None:
    """A Query reads only the items it can return, as DynamoDB does. moto's Table.query takes
    `all_items()` (every item of the table, sorted) and filters it: at the few thousand items of a
    fleet simulation that is ~40 ms a Query, growing with the table. While a Query runs,
    all_items() returns instead
    * for a key Query, the queried partition alone (sorted as all_items sorts);
    * for an index Query, the items whose index hash key matches, unsorted: query() keeps the
      same matches and sorts them itself on the index keys then the table keys (a total order).
    Scans and exports are untouched."""
    query, all_items = table_class.query, table_class.all_items

    def scoped_query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                     scan_index_forward, projection_expressions, index_name=None, *args, **kw):
        if index_name is None:
            scope = ("key", hash_key) if hash_key is not None else None
        else:
            conditions = kw.get("hash_key_conditions") or []
            scope = ("index", conditions) if conditions else None
        _query_scope.target = (self, scope) if scope else None
        try:
            return query(self, hash_key, range_comparison, range_objs, limit, exclusive_start_key,
                         scan_index_forward, projection_expressions, index_name, *args, **kw)
        finally:
            _query_scope.target = None

    def scoped_all_items(self):
        target = getattr(_query_scope, "target", None)
        if target is None or target[0] is not self:
            return all_items(self)
        kind, value = target[1]
        if kind == "index":
            items = [item for partition in list(self.items.values())
                     for item in (list(partition.values()) if self.range_key_attr else [partition])]
            for name, want in value:  # query()'s own test, a present and equal value, condition by condition
                if want.type == "S":  # the common case, compared without DynamoType's casts
                    items = [i for i in items if (v := i.attrs.get(name)) is not None and v.type == "S"
                             and v.value == want.value]
                else:
                    items = [i for i in items if (v := i.attrs.get(name)) is not None and v == want]
            return items
        partition = self.items.get(value)
        if partition is None:
            return []
        items = list(partition.values()) if self.range_key_attr else [partition]  # list(): one atomic copy
        return sorted(items, key=lambda x: (x.hash_key, x.range_key) if x.range_key else x.hash_key)

    table_class.query, table_class.all_items = scoped_query, scoped_all_items


_in_transaction = threading.local()


def _undo_log_transactions() -> None:
    """TransactWriteItems keeps a copy of the items it writes, not of the tables. moto deep-copies
    every table the transaction names, once per transact item, to roll back by swapping the copy in:
    ~1 s a transaction at 3,000 items, and every status change in the app is a transaction. Here
    moto's table copies are skipped (its rollback then swaps a table for itself) and the targeted
    items are restored from copies taken before the call. Tables with a stream keep moto's way: the
    stream's records of a rolled-back write are part of the copied table."""
    import moto.dynamodb.models as models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _Copy:
        """The `copy` module as moto.dynamodb.models sees it: a Table is not copied in a transaction."""

        copy = staticmethod(copy.copy)

        @staticmethod
        def deepcopy(obj: Any, memo: dict | None = None) -> Any:
            if isinstance(obj, Table) and getattr(_in_transaction, "active", False):
                return obj
            return copy.deepcopy(obj, memo)

    def targets(backend: DynamoDBBackend, transact_items: list) -> list[tuple[Table, Any, Any]] | None:
        """(table, hash, range) of each item the transaction may write; None to leave it to moto."""
        found = []
        for entry in transact_items:
            if not isinstance(entry, dict) or not entry:
                continue
            op_type, op = next(iter(entry.items()))
            table = backend.tables.get(op.get("TableName")) if isinstance(op, dict) else None
            if table is None:
                continue  # moto fails the item before writing anything
            if table.stream_shard is not None:
                return None
            key = op.get("Item") if op_type == "Put" else op.get("Key")
            if not isinstance(key, dict) or table.hash_key_attr not in key or (
                    table.range_key_attr and table.range_key_attr not in key):
                continue  # an invalid key: moto rejects the item before writing it
            found.append((table, DynamoType(key[table.hash_key_attr]),
                          DynamoType(key[table.range_key_attr]) if table.range_key_attr else None))
        return found

    def saved(table: Table, hash_key: Any, range_key: Any) -> tuple[bool, Any]:
        partition = table.items.get(hash_key)  # .get: items is a defaultdict, a lookup would add one
        item = partition.get(range_key) if range_key is not None and partition is not None else partition
        return partition is not None, copy.deepcopy(item)

    def restore(table: Table, hash_key: Any, range_key: Any, had_partition: bool, item: Any) -> None:
        if range_key is None:
            if item is None:
                table.items.pop(hash_key, None)
            else:
                table.items[hash_key] = item
            return
        if item is not None:
            table.items[hash_key][range_key] = item
            return
        partition = table.items.get(hash_key)
        if partition is not None:
            partition.pop(range_key, None)
            if not partition and not had_partition:
                del table.items[hash_key]

    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: DynamoDBBackend, transact_items: list) -> None:
        try:
            written = targets(self, transact_items)
        except Exception:  # malformed input: moto's own validation answers it
            written = None
        if written is None:
            return original(self, transact_items)
        before = [(t, h, r, *saved(t, h, r)) for t, h, r in written]
        _in_transaction.active = True
        try:
            return original(self, transact_items)
        except BaseException:
            for entry in reversed(before):  # reversed: a key named twice gets its first copy back
                restore(*entry)
            raise
        finally:
            _in_transaction.active = False

    models.copy = _Copy  # type: ignore[assignment]  # only this module's `copy.deepcopy(...)` calls
    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]


# Operations whose results are items and counts: plain JSON once bytes are base64 (see below).
_ITEM_OPERATIONS = frozenset({"GetItem", "PutItem", "UpdateItem", "DeleteItem", "Query", "Scan", "BatchGetItem",
                              "BatchWriteItem", "TransactGetItems", "TransactWriteItems"})


class _NotPlain(TypeError):
    pass


def _plain(value: Any) -> str:
    if isinstance(value, bytes):  # a B / BS value, base64 as moto's serializer writes blobs
        return base64.b64encode(value).strip().decode("utf-8")
    raise _NotPlain(type(value).__name__)


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value


def _plain_item_responses() -> None:
    """Item results are written with json.dumps. moto's JSON serializer walks the output shape for
    every value, and an item's AttributeValue has ten members each looked up through alias
    providers: about a quarter of a Query's time on the server. For these operations the walk only
    base64-encodes bytes and drops None, which this does; anything else (a timestamp, a type it
    does not know) goes to moto's serializer. tests/integration/test_moto_persistence.py holds both to the
    same bodies."""
    from moto.core.serialize import JSONSerializer

    original = JSONSerializer._serialize_result

    def serialize_result(self: JSONSerializer, resp: dict, result: Any) -> dict:
        if (self.operation_name not in _ITEM_OPERATIONS or self.service_model.service_name != "dynamodb"
                or not isinstance(result, dict) or self.pretty_print):
            return original(self, resp, result)
        try:
            resp["body"] = json.dumps(_drop_none(result), default=_plain)
        except _NotPlain:
            return original(self, resp, result)
        resp["headers"]["Content-Type"] = self._get_protocol_specific_content_type()
        return resp

    JSONSerializer._serialize_result = serialize_result  # type: ignore[method-assign]
