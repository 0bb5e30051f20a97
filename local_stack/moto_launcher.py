"""Local-only moto server whose state survives restarts (even SIGKILL).

    python -m local_stack.moto_launcher --host 127.0.0.1 --port N --state-dir DIR

moto keeps everything in memory, so this launcher persists two things in DIR:

* ``recording.jsonl`` - moto's request recorder, restricted to *mutating*
  requests (reads such as HTTP GET/HEAD, DynamoDB GetItem/Query/Scan, SQS
  ReceiveMessage, Describe*/List*, STS are not recorded, so polling does not
  grow the file).  One JSON line per request, appended and flushed, no fsync.
  On start the file is replayed against the fresh server.
* ``kms-keys.json`` (0600, atomic rename) - KMS keys cannot be replayed because
  moto generates random key ids and key material, so KMS is excluded from the
  recording and its keys are snapshotted after every KMS mutation instead, and
  recreated in-process with the same id, material, state and aliases.

Start-up order: restore KMS, start the server, replay the recording (recording
disabled meanwhile), enable recording, then print ``moto ready http://HOST:PORT``.
A replayed request that fails is logged as one line on stderr and skipped.

SQS deletes and purges cannot be replayed as requests (receipt handles are random
per receive; a strict PurgeQueue fails when replayed within 60 s of another), so:
* every recorded request carries a random ``seed`` (sent back on replay in the
  ``X-Moto-Launcher-Seed`` header) from which the ids of the SQS messages it
  creates are derived, so replayed messages get their original MessageIds;
* a successful delete (DeleteMessage, DeleteMessageBatch) or purge appends a
  synthetic ``{"sqs": {...}}`` line naming the queue (and the message ids),
  which the replay applies in-process, in order.

What survives: DynamoDB tables (with indexes) and items, S3 buckets and objects
(single-part uploads), SQS queues (attributes, redrive policies), sent messages
(with their MessageIds) minus deleted / purged ones, symmetric/HMAC KMS keys
with material, state, policy and aliases.

What does not (or only approximately):
* SQS receives: undeleted messages are visible again after a restart,
  ChangeMessageVisibility is not recorded, receive counts reset and DLQ moves
  are undone (a message deleted from its DLQ is still removed on replay).
  Consumers must be idempotent.
* Anything keyed by server-generated random ids: S3 multipart uploads
  (boto3 uses them above 8 MB; single-part PUTs of any size survive, their
  bodies above 256 KB kept in DIR/blobs/ by content hash), S3 version ids, asymmetric KMS key pairs,
  KMS grants and tags.  Timestamps are those of the replay.
* Requests that failed originally are replayed (and fail again, logged).
The recording is never compacted; delete DIR to reset the stack.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import io
import itertools
import json
import logging
import os
import re
import signal
import sys
import tempfile
import threading
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import requests
from moto import moto_api
from moto.kms.models import Alias, Key, KmsBackend, kms_backends
from moto.moto_api._internal.recorder.models import Recorder
from moto.sqs.models import Message, Queue, SQSBackend, sqs_backends

from local_stack import moto_dispatch, moto_dynamodb
from local_stack.moto_http import KeepAliveMotoServer

RECORDING_FILE = "recording.jsonl"
KMS_FILE = "kms-keys.json"

_READ_PREFIXES = ("Get", "Describe", "List", "Query", "Scan", "BatchGet",
                  "TransactGet", "Receive", "Lookup", "Search")
# Not replayable as requests: receipt handles are random per receive, and replayed purges
# would hit moto's 60 s purge lockout.  Successful deletes and purges are recorded as
# synthetic "sqs" lines instead (see _patch_sqs).
_UNREPLAYABLE = {"DeleteMessage", "DeleteMessageBatch", "ChangeMessageVisibility",
                 "ChangeMessageVisibilityBatch", "PurgeQueue"}
_SEED_HEADER = "X-Moto-Launcher-Seed"
_tls = threading.local()  # message ids for the request being handled on this thread
_SKIP_SERVICES = {"kms", "sts"}  # KMS is persisted separately, STS has no state we need
_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/([^/,]+)/([^/,]+)/")


def _log(msg: str) -> None:
    print(f"moto_launcher: {msg}", file=sys.stderr, flush=True)


def _is_mutation(headers: Any, method: str, query: str, body: bytes) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    target = headers.get("X-Amz-Target", "")
    scope = _SCOPE.search(headers.get("Authorization", ""))
    if target.startswith("TrentService.") or (scope and scope.group(2) in _SKIP_SERVICES):
        return False
    action = target.rsplit(".", 1)[-1] if target else ""
    if not action and "x-www-form-urlencoded" in headers.get("Content-Type", ""):
        action = parse_qs(body.decode("utf-8", "replace")).get("Action", [""])[0]
    action = action or parse_qs(query).get("Action", [""])[0]
    return not (action.startswith(_READ_PREFIXES) or action in _UNREPLAYABLE)


def _headers(environ: dict[str, Any]) -> dict[str, str]:
    """A request's headers as werkzeug's `request.headers` lists them, read from the WSGI environ
    directly: iterating werkzeug's view costs more than the rest of the recording."""
    headers = {key[5:].replace("_", "-").title(): value for key, value in environ.items() if key.startswith("HTTP_")}
    for key, name in (("CONTENT_TYPE", "Content-Type"), ("CONTENT_LENGTH", "Content-Length")):
        if environ.get(key):
            headers[name] = environ[key]
    return headers


class _MutationRecorder(Recorder):
    """moto's recorder, but only for mutating requests, one flushed line each."""

    _lock = threading.Lock()

    def _record_request(self, request: Any, body: bytes | None = None) -> None:
        # moto calls this on the handler's thread right before the handler, so the
        # thread-local id source covers exactly the messages this request creates.
        seed = (None if self._user_enabled else request.headers.get(_SEED_HEADER)) or uuid.uuid4().hex
        _tls.ids = (str(uuid.uuid5(uuid.NAMESPACE_URL, f"{seed}/{n}")) for n in itertools.count())
        if not self._user_enabled or request.raw_path.startswith("/moto-api/"):
            return
        if body is None:  # read the body like moto does, and put it back for the handler
            try:
                body = request.environ["wsgi.input"].read(int(request.headers["Content-Length"]))
                request.environ["wsgi.input"] = io.BytesIO(body)
            except (AttributeError, KeyError, ValueError):
                body = b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = _headers(request.environ)
        url = request.raw_url
        if not _is_mutation(headers, request.method, urlsplit(url).query, body):
            return
        entry = {"headers": headers, "method": request.method, "url": url, "seed": seed}
        if len(body) > _BLOB_THRESHOLD:
            entry["body_blob"] = _save_blob(os.path.dirname(self._location), body)
        else:
            entry["body"], entry["body_encoded"] = self._encode_body(body)
        self._append(entry)

    def _append(self, entry: dict[str, Any]) -> None:
        if not self._user_enabled:
            return
        line = json.dumps(entry)
        with self._lock, open(self._location, "a", encoding="utf-8") as f:
            f.write(line + "\n")


# Big bodies (build artifacts) go to content-addressed files beside the recording: one line of the
# recording stays small, and the object survives a restart as a single-part upload.
_BLOB_THRESHOLD = 256 * 1024


def _save_blob(state_dir: str, body: bytes) -> str:
    import hashlib

    digest = hashlib.sha256(body).hexdigest()
    blobs = os.path.join(state_dir, "blobs")
    os.makedirs(blobs, exist_ok=True)
    target = os.path.join(blobs, digest)
    if not os.path.exists(target):
        with tempfile.NamedTemporaryFile(dir=blobs, delete=False) as tmp:
            tmp.write(body)
        os.replace(tmp.name, target)
    return digest


def _replay(path: str, base_url: str) -> None:
    with open(path, "rb+") as f:  # drop a torn last line left by a SIGKILL mid-write
        data = f.read()
        if data and not data.endswith(b"\n"):
            f.truncate(data.rfind(b"\n") + 1)
            _log("dropped incomplete last line of the recording")
    session = requests.Session()
    for n, raw in enumerate(data.splitlines(keepends=True), 1):
        if not raw.endswith(b"\n"):
            break
        try:
            entry = json.loads(raw)
            if "sqs" in entry:
                _apply_sqs(entry["sqs"])
                continue
            body = entry.get("body") or b""
            if entry.get("body_blob"):
                with open(os.path.join(os.path.dirname(path), "blobs", entry["body_blob"]), "rb") as blob:
                    body = blob.read()
            elif entry.get("body_encoded"):
                body = base64.b64decode(body)
            url = urlsplit(entry["url"])
            headers = {k: v for k, v in entry["headers"].items()
                       if k.lower() not in ("host", "content-length", "transfer-encoding", "expect",
                                            _SEED_HEADER.lower())}
            if entry.get("seed"):
                headers[_SEED_HEADER] = entry["seed"]
            resp = session.request(entry["method"], f"{base_url}{url.path}" + (f"?{url.query}" if url.query else ""),
                                   headers=headers, data=body, timeout=60)
            if resp.status_code >= 400:
                target = headers.get("X-Amz-Target", "")
                _log(f"replay #{n} {entry['method']} {url.path}{' ' + target if target else ''} "
                     f"-> {resp.status_code} {resp.text[:200]!r}")
        except Exception as exc:  # one bad entry must not stop start-up
            _log(f"replay #{n} failed: {exc!r}")


# --- SQS -----------------------------------------------------------------------------
def _record_sqs(op: str, queue: Queue, **extra: Any) -> None:
    moto_api.recorder._append({"sqs": {"op": op, "account_id": queue.account_id, "region": queue.region,
                                       "queue": queue.name, **extra}})


def _patch_sqs() -> None:
    if getattr(Message, "_persisted", False):
        return
    orig_init, orig_delete, orig_purge = Message.__init__, Queue.delete_message, SQSBackend.purge_queue

    def init(self: Message, message_id: str, *args: Any, **kw: Any) -> None:
        ids = getattr(_tls, "ids", None)  # None outside request threads: keep moto's random id
        orig_init(self, next(ids) if ids is not None else message_id, *args, **kw)

    def delete_message(self: Queue, receipt_handle: str) -> None:
        ids = [m.id for m in list(self._messages) if m.had_receipt_handle(receipt_handle)]
        orig_delete(self, receipt_handle)  # raises for invalid handles: nothing recorded
        if ids:  # empty when already deleted
            _record_sqs("delete", self, ids=ids)

    def purge_queue(self: SQSBackend, queue_name: str) -> None:
        orig_purge(self, queue_name)  # raises PurgeQueueInProgress: nothing recorded
        _record_sqs("purge", self.get_queue(queue_name))

    Message.__init__ = init  # type: ignore[method-assign]
    Queue.delete_message = delete_message  # type: ignore[method-assign]
    SQSBackend.purge_queue = purge_queue  # type: ignore[method-assign]
    Message._persisted = True  # type: ignore[attr-defined]


def _apply_sqs(op: dict[str, Any]) -> None:
    backend = sqs_backends[op["account_id"]][op["region"]]
    queue = backend.queues.get(op["queue"])
    if op["op"] == "purge":
        if queue is None:
            raise LookupError(f"purge of missing queue {op['queue']!r}")
        queue._messages, queue._pending_messages = [], set()  # last_purged_at left unset: no 60 s lockout at start
        return
    ids = set(op["ids"])
    # DLQ moves are not replayed, so a message deleted from a DLQ may still be in its source queue.
    for q in sorted(list(backend.queues.values()), key=lambda q: q is not queue):  # named queue first
        gone = [m for m in q._messages if m.id in ids]
        if gone:
            q._messages = [m for m in q._messages if m.id not in ids]
            q._pending_messages.difference_update(gone)
            ids.difference_update(m.id for m in gone)
        if not ids:
            return


# --- KMS -----------------------------------------------------------------------------
_kms_lock = threading.Lock()
_kms_path: str | None = None
_KMS_MUTATORS = ("create_key", "create_alias", "update_alias", "delete_alias", "delete_key",
                 "schedule_key_deletion", "cancel_key_deletion", "enable_key", "disable_key",
                 "put_key_policy", "update_key_description")


def _save_kms() -> None:
    if _kms_path is None:
        return
    with _kms_lock:  # snapshot and write under one lock so the newest snapshot is written last
        keys = [{"account_id": account_id, "region": region, "id": key.id,
                 "material": base64.b64encode(key.key_material).decode(),
                 "key_usage": key.key_usage, "key_spec": key.key_spec, "description": key.description,
                 "policy": key.policy, "origin": key.origin, "creation_date": key.creation_date,
                 "key_state": key.key_state, "enabled": key.enabled,
                 "deletion_date": key.deletion_date.isoformat() if key.deletion_date else None,
                 "aliases": sorted(key.aliases)}
                for account_id, account in list(dict.items(kms_backends))
                for region, backend in list(dict.items(account))
                for key in list(backend.keys.values())]
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(_kms_path), prefix=".kms-keys.")  # 0600
        with os.fdopen(fd, "w") as f:
            json.dump({"version": 1, "keys": keys}, f, indent=1)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, _kms_path)


def _patch_kms() -> None:
    # moto creates keys with random ids (mock_random.uuid4) and random material (os.urandom),
    # so replaying CreateKey would orphan every ciphertext made before a restart.  Instead,
    # snapshot all keys after each backend call that changes a key or alias.
    if getattr(KmsBackend, "_persisted", False):
        return
    for name in _KMS_MUTATORS:
        def wrapper(self: KmsBackend, *args: Any, _orig: Callable = getattr(KmsBackend, name), **kw: Any) -> Any:
            result = _orig(self, *args, **kw)
            _save_kms()
            return result
        setattr(KmsBackend, name, wrapper)
    KmsBackend._persisted = True  # type: ignore[attr-defined]


def _restore_kms(path: str) -> None:
    if not os.path.exists(path):
        return
    with open(path) as f:
        saved = json.load(f)["keys"]
    for k in saved:
        backend = kms_backends[k["account_id"]][k["region"]]
        key = Key(k["policy"], k["key_usage"], k["key_spec"], k["description"],
                  k["account_id"], k["region"], origin=k["origin"])
        key.arn, key.id = key.arn.replace(key.id, k["id"]), k["id"]
        key.key_material = base64.b64decode(k["material"])
        key.creation_date, key.key_state, key.enabled = k["creation_date"], k["key_state"], k["enabled"]
        key.deletion_date = datetime.fromisoformat(k["deletion_date"]) if k["deletion_date"] else None
        for alias in k["aliases"]:
            key.aliases[alias] = Alias(k["account_id"], k["region"], alias, key)
        backend.keys[key.id] = key
    _log(f"restored {len(saved)} KMS key(s)")


# --- entry points -------------------------------------------------------------------
def serve(host: str, port: int, state_dir: str,
          ready: Callable[[str], None] | None = None) -> None:
    """Run moto on host:port with state in state_dir until SIGTERM/SIGINT.

    Signal handlers are only installed when called from the main thread."""
    global _kms_path
    if host != "localhost" and not ipaddress.ip_address(host).is_loopback:
        raise ValueError(f"refusing to serve moto on non-loopback address {host!r}")
    os.makedirs(state_dir, mode=0o700, exist_ok=True)
    recording = os.path.join(state_dir, RECORDING_FILE)
    os.close(os.open(recording, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))

    recorder = moto_api.recorder  # the singleton moto's request handlers record through
    recorder.__class__ = _MutationRecorder
    recorder._location, recorder._user_enabled = recording, False

    _restore_kms(os.path.join(state_dir, KMS_FILE))
    _kms_path = os.path.join(state_dir, KMS_FILE)
    _patch_kms()
    _patch_sqs()
    moto_dynamodb.patch()
    moto_dispatch.patch()

    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.set())
    server = KeepAliveMotoServer(host, port)
    server.start()
    try:
        url = "http://{}:{}".format(host, server.get_host_and_port()[1])
        _replay(recording, url)
        recorder._user_enabled = True
        if ready is not None:
            ready(url)
        while not stop.wait(1):
            pass
    finally:
        recorder._user_enabled = False
        server.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--state-dir", required=True)
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no per-request access log
    serve(args.host, args.port, args.state_dir, ready=lambda url: print(f"moto ready {url}", flush=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
