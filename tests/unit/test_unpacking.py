"""Artifacts and source tarballs unpack with the tarfile `data` filter and a size cap, failing with a reason."""
from __future__ import annotations

import io
import tarfile
from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib.runners.local_deploy import LocalDeployRunner, StartError
from chalicelib.settings import Settings
from chalicelib.sources import SourceError, _extract_stripped


def _tgz(entries: list[tarfile.TarInfo | tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for entry in entries:
            if isinstance(entry, tuple):
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
            else:
                tar.addfile(entry)
    return buf.getvalue()


def _link(name: str, target: str, kind=tarfile.SYMTYPE) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info


def _device(name: str) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
    return info


class _S3:
    def __init__(self, data: bytes):
        self.data = data

    def get_object(self, Bucket, Key):
        return {"Body": SimpleNamespace(iter_chunks=lambda size: (self.data[i:i + size]
                                                                  for i in range(0, len(self.data), size)))}


def _start_from(tmp_path: Path, data: bytes, max_mb: int = 2048) -> Path:
    settings = Settings(server_root=str(tmp_path / "servers"), artifact_max_mb=max_mb)
    runner = LocalDeployRunner(settings, s3=_S3(data))
    spec = SimpleNamespace(artifact_bucket="b", artifact_key="k", artifact_sha256=None)
    app = tmp_path / "app"
    app.mkdir(parents=True)
    runner._fetch(spec, tmp_path / "artifact.tgz", app)
    return app


def test_an_artifact_with_relative_links_inside_unpacks(tmp_path):
    app = _start_from(tmp_path, _tgz([("node_modules/x/bin.js", b"#!/usr/bin/env node\n"),
                                     _link("node_modules/.bin/x", "../x/bin.js")]))
    assert (app / "node_modules/.bin/x").read_text().startswith("#!")


@pytest.mark.parametrize("entry", [
    _link("etc-passwd", "/etc/passwd"),            # an absolute symlink
    _link("up", "../../../../etc/passwd"),         # a symlink out of the app
    _link("hard", "/etc/passwd", tarfile.LNKTYPE),  # a hard link out of the app
    _device("null"),                               # a device file
    ("../escape", b"x"),                           # a path out of the app
], ids=["absolute-symlink", "escaping-symlink", "escaping-hardlink", "device", "dotdot-path"])
def test_an_artifact_that_reaches_outside_its_directory_is_refused_with_a_reason(tmp_path, entry):
    with pytest.raises(StartError, match="artifact"):
        _start_from(tmp_path, _tgz([("ok.js", b"1"), entry]))
    assert not (tmp_path / "escape").exists()


def test_an_absolute_path_in_an_artifact_lands_inside_the_app(tmp_path):
    app = _start_from(tmp_path, _tgz([("/abs/file", b"x")]))
    assert (app / "abs" / "file").read_bytes() == b"x"


def test_an_artifact_over_the_cap_is_refused_before_and_after_download(tmp_path):
    big = _tgz([("zeros.bin", bytes(3 * 1024 * 1024))])  # compresses to a few KiB, unpacks to 3 MiB
    with pytest.raises(StartError, match="more than 2 MiB"):
        _start_from(tmp_path, big, max_mb=2)
    with pytest.raises(StartError, match="larger than"):
        _start_from(tmp_path / "2", bytes(2 * 1024 * 1024 + 1), max_mb=2)


def test_a_broken_artifact_is_a_reason_not_a_crash(tmp_path):
    with pytest.raises(StartError, match="cannot be unpacked"):
        _start_from(tmp_path, _tgz([("a", b"x" * 100)])[:-30])


def test_a_source_tarball_over_the_cap_or_with_escapes_is_a_source_error(tmp_path, monkeypatch):
    import chalicelib.sources as sources

    with tarfile.open(fileobj=io.BytesIO(_tgz([("repo-sha/../../escape", b"x")])), mode="r:gz") as tar:
        with pytest.raises(SourceError):
            _extract_stripped(tar, tmp_path / "a")
    monkeypatch.setattr(sources, "SOURCE_MAX_BYTES", 1000)
    with tarfile.open(fileobj=io.BytesIO(_tgz([("repo-sha/big", bytes(2000))])), mode="r:gz") as tar:
        with pytest.raises(SourceError, match="unpacks to more than"):
            _extract_stripped(tar, tmp_path / "b")
