"""Ingest one S3 object (observability JSONL or a build log) into ClickHouse, exactly once.

The happy path never parses a line in Python: the object is cut into chunks at line boundaries
(bounded memory, one all-or-nothing insert each), and the engine parses every chunk itself. Chunk
boundaries depend only on the bytes (the first line end at or after `chunk_bytes`), never on how
the body arrived, so a retried object is cut the same way and every chunk keeps its deduplication
token. Lines
the engine rejects (bad JSON, contract broken, wrong team) are skipped by it; when the row count
the engine reports for the object falls short of the object's lines, the slow path reads the
lines back, keeps what the engine accepted, and writes the rest with line numbers and reasons to
`quarantine/{original key}`. Good lines are never held back by bad ones.

Idempotent per bucket/key/ETag: a ledger row short-circuits redeliveries, and every insert carries
a deduplication token derived from bucket/key/ETag/chunk, so a retry after a crash half-way
writes nothing twice (rollups included).

`ingest_batch` takes the objects of one SQS batch together: the small objects of one table and
scope (a server's spans, say) go in as one insert (`Writer.insert_files`), their ledger rows as one
more, so shipping small files often does not mean many tiny ClickHouse inserts. The ledger stays
per object. A redelivered object arrives in another batch with another token, so before inserting,
the rows each object already has (`ingested_rows`) are read: an object with rows was inserted whole
by a batch that failed before its ledger write, and is not inserted again.
"""
from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any, Iterator

from chalicelib.analytics import contract, schema
from chalicelib.analytics.writer import FileInsert, Writer
from chalicelib.aws import error_code
from chalicelib.errors import Unavailable
from chalicelib.control_plane_log import logger

CHUNK_BYTES = 64 << 20
READ_BYTES = 8 << 20
SHM_DIR = "/dev/shm"
INSERT_WORKERS = 2
QUARANTINE_PREFIX = "quarantine/"
MAX_RAW_CHARS = 8192
_ID = r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}"
OBSERVABILITY_KEY = re.compile(rf"^observability/(?P<kind>[a-z]+)/(?P<team>{_ID})/(?P<project>{_ID})/"
                               rf"(?P<deployment>{_ID})/[^/]+\.jsonl$")
BUILD_LOG_KEY = re.compile(rf"^builds/(?P<build>{_ID})/build\.log$")
BUILD_LOG_METADATA = ("team-id", "project-id", "deployment-id")


@dataclass(frozen=True)
class S3Object:
    bucket: str
    key: str
    etag: str
    size: int = 0

    @property
    def source_key(self) -> str:
        return f"{self.bucket}/{self.key}@{self.etag}"


@dataclass
class IngestResult:
    key: str
    status: str  # ingested | duplicate | quarantined | ignored | missing | superseded
    lines: int = 0
    ingested: int = 0
    quarantined: int = 0
    reasons: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Chunk:
    path: str
    first_line: int  # 0-based line number of the chunk's first line in the object
    lines: int  # lines, empty ones included (see non_blank_lines)

    def non_blank_lines(self) -> int:
        """Lines that can hold a record; read from disk, only when rows fell short of `lines`."""
        with open(self.path, "rb") as f:
            return sum(1 for line in f if line.strip())


@dataclass(frozen=True)
class Target:
    spec: schema.KindSpec
    params: dict[str, Any]


class Ingestor:
    """Ports: an S3 client (boto3 shape) and a Writer."""

    def __init__(self, s3: Any, writer: Writer, chunk_bytes: int = CHUNK_BYTES, tmp_dir: str | None = None,
                 insert_workers: int = INSERT_WORKERS):
        self.s3, self.writer, self.chunk_bytes, self.tmp_dir = s3, writer, chunk_bytes, tmp_dir
        self.insert_workers = insert_workers

    def _scratch_dir(self, obj: S3Object) -> str | None:
        """Where this object's chunk files go: tmp_dir if set; else /dev/shm when it has room for
        twice the object (page-cache files on disk cost 3-4x the CPU to write); else the default."""
        if self.tmp_dir:
            return self.tmp_dir
        try:
            st = os.statvfs(SHM_DIR)
        except OSError:
            return None
        room = st.f_bavail * st.f_frsize
        return SHM_DIR if obj.size and room >= 2 * obj.size and os.access(SHM_DIR, os.W_OK) else None

    # --- entry point --------------------------------------------------------------------------

    def ingest(self, obj: S3Object) -> IngestResult:
        if obj.key.startswith(QUARANTINE_PREFIX) or not (obj.key.startswith("observability/")
                                                         or BUILD_LOG_KEY.match(obj.key)):
            return IngestResult(obj.key, "ignored")
        if self._already_ingested(obj):
            return IngestResult(obj.key, "duplicate")
        target, problem = self._target(obj)
        if target is None:
            if problem == "missing":
                return IngestResult(obj.key, "missing")
            self._quarantine(obj, [{"line": None, "reason": problem}])
            self._record(obj, "unknown", "", 0, 0, 0)
            logger.warning("object quarantined", extra={"key": obj.key, "reason": problem})
            return IngestResult(obj.key, "quarantined", reasons=[problem])
        with tempfile.TemporaryDirectory(prefix="ingest-", dir=self._scratch_dir(obj)) as tmp:
            try:
                chunks = self._insert_unless_present(obj, target, tmp)
            except _Gone as e:
                return IngestResult(obj.key, e.status)
            lines = sum(c.lines for c in chunks)
            ingested = self._ingested_rows(obj)
            if ingested < lines:  # empty lines are not records: count them only when it matters
                lines = sum(c.non_blank_lines() for c in chunks)
            entries: list[dict] = []
            if ingested < lines:
                entries = self._find_rejected(obj, target, chunks, tmp)
                ingested = self._ingested_rows(obj)
                self._quarantine(obj, entries)
        self._record(obj, target.spec.kind, target.params["team"], lines, ingested, len(entries))
        logger.info("object ingested", extra={"key": obj.key, "lines": lines, "ingested": ingested,
                                              "quarantined": len(entries)})
        return IngestResult(obj.key, "ingested", lines, ingested, len(entries),
                            reasons=sorted({e["reason"] for e in entries}))

    def ingest_batch(self, objects: list[S3Object]) -> dict[str, IngestResult | Exception]:
        """Each object's outcome by source key: its result, or the error that fails it alone."""
        unique = list({o.source_key: o for o in objects}.values())
        outcomes: dict[str, IngestResult | Exception] = {}
        groups: dict[tuple, list[tuple[S3Object, Target]]] = {}
        singles: list[S3Object] = []
        if len(unique) < 2:
            return {}  # nothing to batch: the record handler ingests it
        try:
            done = self._ledgered(unique)
        except Exception:  # the engine is unreachable: each record meets it and fails alone
            return {}
        for obj in unique:
            target = self._observability_target(obj)
            if obj.source_key in done:
                outcomes[obj.source_key] = IngestResult(obj.key, "duplicate")
            elif target is None or (obj.size and obj.size > self.chunk_bytes):
                singles.append(obj)
            else:
                scope = (target.spec.kind, target.params["team"], target.params["project"], target.params["deployment"])
                groups.setdefault(scope, []).append((obj, target))
        for group in groups.values():
            if len(group) == 1:
                singles.append(group[0][0])
                continue
            try:
                outcomes.update(self._ingest_group(group))
            except Exception as e:  # one object may be the cause: each goes alone, failing alone
                logger.warning("batch insert failed, objects go one by one", extra={"error": repr(e)})
                singles.extend(obj for obj, _ in group)
        for obj in singles:
            try:
                outcomes[obj.source_key] = self.ingest(obj)
            except Exception as e:
                outcomes[obj.source_key] = e
        return outcomes

    def _ingest_group(self, group: list[tuple[S3Object, Target]]) -> dict[str, IngestResult]:
        """Objects of one table and scope, each fitting one chunk: one insert, then one ledger insert."""
        with tempfile.TemporaryDirectory(prefix="ingest-batch-", dir=self.tmp_dir or None) as tmp:
            fetched: list[tuple[S3Object, Target, Chunk]] = []
            results: dict[str, IngestResult] = {}
            for i, (obj, target) in enumerate(group):
                os.mkdir(folder := os.path.join(tmp, str(i)))
                try:
                    chunks = list(self._download(obj, folder))
                except _Gone as e:
                    results[obj.source_key] = IngestResult(obj.key, e.status)
                    continue
                if len(chunks) == 1:
                    fetched.append((obj, target, chunks[0]))
                else:  # empty, or larger than its notification said: alone, chunk by chunk
                    results[obj.source_key] = self.ingest(obj)
            rows = self._rows_by_key([obj for obj, _, _ in fetched])
            fresh = [(obj, target, chunk) for obj, target, chunk in fetched if not rows.get(obj.source_key)]
            if fresh:
                self._insert_together(fresh)
                rows = self._rows_by_key([obj for obj, _, _ in fetched])
            ledger = []
            for obj, target, chunk in fetched:
                ingested, lines, entries = rows.get(obj.source_key, 0), chunk.lines, []
                if ingested < lines:
                    lines = chunk.non_blank_lines()
                if ingested < lines:  # the slow path, for this object only
                    entries = self._find_rejected(obj, target, [chunk], os.path.dirname(chunk.path))
                    ingested = self._ingested_rows(obj)
                    self._quarantine(obj, entries)
                ledger.append(self._ledger_row(obj, target.spec.kind, target.params["team"], lines, ingested,
                                               len(entries)))
                results[obj.source_key] = IngestResult(obj.key, "ingested", lines, ingested, len(entries),
                                                       reasons=sorted({e["reason"] for e in entries}))
        if ledger:
            self._record_rows(ledger, token=_batch_token("ledger", [row[:3] for row in ledger]))
        logger.info("objects ingested together", extra={"objects": len(fetched), "inserted": len(fresh)})
        return results

    def _insert_together(self, fresh: list[tuple[S3Object, Target, Chunk]]) -> None:
        target = fresh[0][1]
        spec = target.spec
        self.writer.insert_files(FileInsert(
            table=spec.table, columns=spec.columns(), expressions=spec.expressions(), structure=spec.structure(),
            fmt="JSONEachRow", predicate=spec.predicate(), parameters=target.params,
            token=_batch_token("rows", [obj.source_key for obj, _, _ in fresh]),
        ), [(chunk.path, obj.source_key) for obj, _, chunk in fresh])

    def _rows_by_key(self, objects: list[S3Object]) -> dict[str, int]:
        if not objects:
            return {}
        return {k: int(n) for k, n in self.writer.query(
            "SELECT source_key, sum(rows) FROM ingested_rows WHERE source_key IN {keys:Array(String)} "
            "GROUP BY source_key", {"keys": [o.source_key for o in objects]})}

    def _ledgered(self, objects: list[S3Object]) -> set[str]:
        rows = self.writer.query(
            "SELECT bucket, key, etag FROM ingested_objects WHERE key IN {keys:Array(String)}",
            {"keys": [o.key for o in objects]})
        return {S3Object(b, k, e).source_key for b, k, e in rows}

    # --- routing ------------------------------------------------------------------------------

    def _observability_target(self, obj: S3Object) -> Target | None:
        """The target of a well-formed observability key (no S3 call); anything else: None."""
        if obj.key.startswith(QUARANTINE_PREFIX) or not OBSERVABILITY_KEY.match(obj.key):
            return None
        target, _ = self._target(obj)
        return target

    def _target(self, obj: S3Object) -> tuple[Target | None, str]:
        params = {"source_key": obj.source_key}
        m = OBSERVABILITY_KEY.match(obj.key)
        if m:
            spec = schema.KINDS.get(m["kind"])
            if spec is None:
                return None, f"unknown kind {m['kind']!r} in key (expected one of {', '.join(schema.KINDS)})"
            params.update(team=m["team"], project=m["project"], deployment=m["deployment"])
            return Target(spec, params), ""
        b = BUILD_LOG_KEY.match(obj.key)
        if not b:
            return None, "key does not match observability/{kind}/{teamId}/{projectId}/{deploymentId}/{file}.jsonl"
        try:
            head = self.s3.head_object(Bucket=obj.bucket, Key=obj.key)
        except Exception as e:
            if error_code(e) in ("404", "NoSuchKey", "NotFound"):
                return None, "missing"
            raise Unavailable("S3 is unavailable", code="s3_unavailable") from e
        metadata = {k.lower(): v for k, v in (head.get("Metadata") or {}).items()}
        absent = [k for k in BUILD_LOG_METADATA if not metadata.get(k)]
        if absent:
            return None, f"build log without metadata {', '.join(absent)}"
        if any(not re.fullmatch(_ID, metadata[k]) for k in BUILD_LOG_METADATA):
            return None, "build log metadata ids are malformed"
        params.update(team=metadata["team-id"], project=metadata["project-id"],
                      deployment=metadata["deployment-id"], build=b["build"])
        return Target(schema.BUILD_LOGS, params), ""

    # --- reading the object -------------------------------------------------------------------

    def _download(self, obj: S3Object, tmp: str) -> Iterator[Chunk]:
        """Chunks of the object, each yielded as soon as it is on disk (and inserted before the next).

        Not overlapped with the insert on purpose: with chDB in-process, a reader thread holding
        the GIL stalls the engine's threads (measured: +40% wall time for -10% CPU), and on two
        cores the engine already uses both.
        """
        body = self._open(obj)
        writer = _ChunkWriter(tmp, self.chunk_bytes)
        try:
            while True:
                try:
                    piece = body.read(READ_BYTES)
                except Exception as e:
                    raise Unavailable("S3 read failed", code="s3_unavailable") from e
                if not piece:
                    break
                yield from writer.write(piece)
            yield from writer.close()
        finally:
            writer.abort()
            body.close()

    def _open(self, obj: S3Object) -> Any:
        try:
            kwargs = {"IfMatch": obj.etag} if obj.etag else {}
            return self.s3.get_object(Bucket=obj.bucket, Key=obj.key, **kwargs)["Body"]
        except Exception as e:
            code = error_code(e)
            if code in ("NoSuchKey", "404"):
                raise _Gone("missing") from e
            if code in ("PreconditionFailed", "412"):
                raise _Gone("superseded") from e  # a newer version has its own event
            raise Unavailable("S3 is unavailable", code="s3_unavailable") from e

    # --- writing ------------------------------------------------------------------------------

    def _insert_unless_present(self, obj: S3Object, target: Target, tmp: str) -> list[Chunk]:
        """Insert the object's chunks, unless it is one chunk whose rows are already there: a batch
        (another token) inserted it whole and failed before its ledger write. A one-chunk insert is
        all or nothing, so rows present mean every row; several chunks rely on their tokens."""
        if target.spec is schema.BUILD_LOGS or not self._ingested_rows(obj):
            return self._insert_chunks(obj, target, tmp)
        chunks = list(self._download(obj, tmp))
        return chunks if len(chunks) <= 1 else self._insert_chunks(obj, target, tmp)

    def _insert_chunks(self, obj: S3Object, target: Target, tmp: str) -> list[Chunk]:
        """Insert every chunk, up to `insert_workers` at once, each on its own connection.

        One insert is one block, so the engine parses a chunk on both cores and then writes it on
        one; a second insert in flight keeps the other core busy (measured 1.7x on two cores).
        Chunks are independent (own token, any order); the first failure stops the download,
        waits for the inserts in flight and is raised.
        """
        writers = self.writer.workers(self.insert_workers)
        chunks: list[Chunk] = []
        download = self._download(obj, tmp)
        if len(writers) == 1:
            with closing(download):
                for chunk in download:
                    self._insert(obj, target, chunk, len(chunks))
                    chunks.append(chunk)
            return chunks
        idle: queue.Queue = queue.Queue()
        for writer in writers:
            idle.put(writer)
        futures: list[Future] = []

        def run(writer: Writer, chunk: Chunk, index: int) -> None:
            try:
                self._insert(obj, target, chunk, index, writer)
            finally:
                idle.put(writer)

        with ThreadPoolExecutor(len(writers), thread_name_prefix="ingest-insert") as pool, closing(download):
            for chunk in download:
                writer = idle.get()  # at most one chunk per connection in flight
                if any(f.done() and f.exception() for f in futures):
                    break
                futures.append(pool.submit(run, writer, chunk, len(chunks)))
                chunks.append(chunk)
        for future in futures:
            future.result()  # the first failure, if any
        return chunks

    def _insert(self, obj: S3Object, target: Target, chunk: Chunk, index: int | str,
                writer: Writer | None = None) -> None:
        spec = target.spec
        if spec is schema.BUILD_LOGS:
            columns, expressions = schema.build_log_columns()
            fmt, params = "LineAsString", {**target.params, "line_offset": chunk.first_line}
            predicate = " AND ".join(spec.contract)
        else:
            columns, expressions = spec.columns(), spec.expressions()
            fmt, params, predicate = "JSONEachRow", target.params, spec.predicate()
        (writer or self.writer).insert_file(FileInsert(
            table=spec.table, columns=columns, expressions=expressions, structure=spec.structure()
            if spec is not schema.BUILD_LOGS else "line String", fmt=fmt, predicate=predicate,
            parameters=params, token=f"{obj.source_key}#{index}",
        ), chunk.path)

    def _ingested_rows(self, obj: S3Object) -> int:
        rows = self.writer.query("SELECT sum(rows) FROM ingested_rows WHERE source_key = {k:String}",
                                 {"k": obj.source_key})
        return int(rows[0][0] or 0) if rows else 0

    def _accepted(self, obj: S3Object, target: Target) -> set:
        if target.spec is schema.BUILD_LOGS:
            return {r[0] for r in self.writer.query(
                "SELECT line_no FROM build_logs WHERE team_id = {team:String} AND build_id = {build:String} "
                "AND source_key = {k:String}", {"team": target.params["team"], "build": target.params["build"],
                                                "k": obj.source_key})}
        return {r[0] for r in self.writer.query(
            f"SELECT DISTINCT record_id FROM {target.spec.table} WHERE team_id = {{team:String}} "
            "AND project_id = {project:String} AND source_key = {k:String}",
            {"team": target.params["team"], "project": target.params["project"], "k": obj.source_key})}

    def _find_rejected(self, obj: S3Object, target: Target, chunks: list[Chunk], tmp: str) -> list[dict]:
        """The slow path: which lines did the engine not take, and why.

        A valid line can be lost by the engine's error recovery when the line before it is broken
        (an unterminated string runs into it), so lines the contract accepts but the engine did not
        take are inserted again on their own before anything is quarantined.
        """
        spec = target.spec
        build_log = spec is schema.BUILD_LOGS
        accepted = self._accepted(obj, target)
        entries, retry = [], []
        for chunk in chunks:
            with open(chunk.path, "rb") as f:
                for offset, raw in enumerate(f):
                    line = raw.rstrip(b"\r\n")
                    if not line.strip():
                        continue
                    line_no = chunk.first_line + offset + 1
                    if build_log:
                        if line_no in accepted:
                            continue
                        why = contract.build_log_reason(line)
                    else:
                        rid = contract.record_id(line)
                        if rid is not None and rid in accepted:
                            continue
                        why = contract.reason(line, spec.kind, target.params)
                    entry = {"line": line_no, "reason": why, "raw": line.decode("utf-8", "replace")[:MAX_RAW_CHARS]}
                    if why is None and not build_log:
                        retry.append((entry, rid, line))
                    else:
                        entries.append(entry)
        if retry:
            path = os.path.join(tmp, "retry")
            with open(path, "wb") as f:
                f.write(b"".join(line + b"\n" for _, _, line in retry))
            self._insert(obj, target, Chunk(path, 0, len(retry)), "retry")
            accepted = self._accepted(obj, target)
            for entry, rid, _ in retry:
                if rid not in accepted:
                    entries.append({**entry, "reason": "rejected by the ClickHouse engine"})
        return sorted(entries, key=lambda e: e["line"])

    def _quarantine(self, obj: S3Object, entries: list[dict]) -> None:
        if not entries:
            return
        body = "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in entries).encode()
        try:
            self.s3.put_object(Bucket=obj.bucket, Key=QUARANTINE_PREFIX + obj.key, Body=body,
                               ContentType="application/x-ndjson",
                               Metadata={"source-etag": obj.etag.strip('"'), "lines": str(len(entries))})
        except Exception as e:
            raise Unavailable("S3 is unavailable", code="s3_unavailable") from e

    def _already_ingested(self, obj: S3Object) -> bool:
        rows = self.writer.query(
            "SELECT count() FROM ingested_objects WHERE bucket = {b:String} AND key = {k:String} AND etag = {e:String}",
            {"b": obj.bucket, "k": obj.key, "e": obj.etag})
        return bool(rows and rows[0][0])

    def _record(self, obj: S3Object, kind: str, team: str, lines: int, ingested: int, quarantined: int) -> None:
        self._record_rows([self._ledger_row(obj, kind, team, lines, ingested, quarantined)],
                          token=f"ledger:{obj.source_key}")

    @staticmethod
    def _ledger_row(obj: S3Object, kind: str, team: str, lines: int, ingested: int, quarantined: int) -> list:
        return [obj.bucket, obj.key, obj.etag, kind, team, lines, ingested, quarantined]

    def _record_rows(self, rows: list[list], token: str) -> None:
        self.writer.insert_rows(
            "ingested_objects", ["bucket", "key", "etag", "kind", "team_id", "lines", "ingested", "quarantined"],
            rows, token=token)


def _batch_token(what: str, keys: list) -> str:
    """A deduplication token for a set of objects: the same set, in any order, gets the same token."""
    return f"{what}:batch:" + hashlib.sha256(json.dumps(sorted(keys)).encode()).hexdigest()


class _ChunkWriter:
    """Streams bytes into chunk files cut at line boundaries, counting lines on the way.

    No copy of the object is held in memory: each piece goes straight to the current chunk file.
    A chunk ends at the first line end at or after `chunk_bytes` bytes, wherever the pieces
    happen to be split, so the same object is always cut the same way (chunk tokens depend on it).
    """

    def __init__(self, tmp: str, chunk_bytes: int):
        self.tmp, self.chunk_bytes = tmp, max(1, chunk_bytes)
        self.count = 0
        self.file: Any = None
        self.size = self.lines = 0
        self.first_line = 0
        self.last = b"\n"  # the byte before the current position (start of file counts as after a newline)

    def _open(self) -> None:
        self.path = os.path.join(self.tmp, f"chunk-{self.count}")
        self.file = open(self.path, "wb")
        self.size = self.lines = 0

    def _append(self, data: bytes) -> None:
        if not data:
            return
        if self.file is None:
            self._open()
        self.file.write(data)
        self.size += len(data)
        self.lines += data.count(b"\n")
        self.last = data[-1:]

    def _finish(self) -> Chunk | None:
        if self.file is None:
            return None
        self.file.close()
        self.file = None
        self.count += 1
        total = self.lines + (0 if self.last == b"\n" else 1)
        chunk = Chunk(self.path, self.first_line, total)
        self.first_line += total
        self.last = b"\n"
        self.size = self.lines = 0
        return chunk

    def write(self, piece: bytes) -> list[Chunk]:
        """Append a piece; returns the chunks it completed (usually none, at most a few)."""
        done = []
        while piece:
            # The current chunk may end only at a line end at or past chunk_bytes.
            start = max(self.chunk_bytes - self.size - 1, 0)
            end = piece.find(b"\n", start)
            if end < 0:
                self._append(piece)
                break
            self._append(piece[:end + 1])
            done.append(self._finish())
            piece = piece[end + 1:]
        return done

    def close(self) -> list[Chunk]:
        chunk = self._finish()
        return [chunk] if chunk else []

    def abort(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class _Gone(Exception):
    def __init__(self, status: str):
        super().__init__(status)
        self.status = status

