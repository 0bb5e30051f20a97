"""Trim the Lambda package `chalice package` wrote, then print its sizes (run by `make package`).

chalice ships every file of every requirement. Half of the zip is botocore's service models
(botocore/data, one folder per AWS service, ~450 of them, already gzipped so they barely
compress): the functions call a dozen services. Models of the services below are kept, every
other service folder is dropped; botocore's own top-level data files (endpoints, partitions,
retry rules) stay. tests/unit/test_lean_package.py fails when code starts a client of a service
missing here, and tests/integration/test_lean_package.py imports app.py from the trimmed package.

    python infra/lean_package.py build/package/deployment.zip
"""
from __future__ import annotations

import os
import sys
import tempfile
import zipfile
from pathlib import Path

# Every service the functions create a client for (directly, through pynamodb, or through the
# settings' secret reads), plus sts for the role's own identity.
KEPT_SERVICES = frozenset({
    "apigatewaymanagementapi", "cloudwatch", "codebuild", "dynamodb", "ecs", "elbv2", "events", "kms",
    "logs", "s3", "secretsmanager", "sqs", "ssm", "sts",
})
SERVICE_MODELS = "botocore/data/"


# The `mastra-admin` CLI lives in chalicelib/ but is no function's code: typer and rich are not shipped.
NOT_SHIPPED_CODE = ("chalicelib/cli/",)


def dropped(name: str) -> bool:
    """A member of botocore/data/<service>/ for a service the functions never call, or CLI code."""
    if name.startswith(NOT_SHIPPED_CODE):
        return True
    if not name.startswith(SERVICE_MODELS):
        return False
    rest = name[len(SERVICE_MODELS):]
    return "/" in rest and rest.split("/", 1)[0] not in KEPT_SERVICES


def sizes(path: Path) -> tuple[int, int]:
    """(zip bytes, unzipped bytes)."""
    with zipfile.ZipFile(path) as zf:
        return path.stat().st_size, sum(info.file_size for info in zf.infolist())


def trim(path: Path) -> int:
    """Rewrite the zip without the dropped members (each kept member copied as it was); returns how
    many were dropped. Written beside it and renamed, so a failure leaves the original."""
    removed = 0
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".zip")
    os.close(fd)
    try:
        with zipfile.ZipFile(path) as src, zipfile.ZipFile(tmp, "w") as dst:
            for info in src.infolist():
                if dropped(info.filename):
                    removed += 1
                    continue
                dst.writestr(info, src.read(info), compress_type=info.compress_type)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return removed


def mib(n: int) -> str:
    return f"{n / (1 << 20):.1f} MiB"


def main(argv: list[str]) -> int:
    path = Path(argv[1] if len(argv) > 1 else "build/package/deployment.zip")
    zipped, unzipped = sizes(path)
    removed = trim(path)
    after_zipped, after_unzipped = sizes(path)
    print(f"package {path}: dropped {removed} files (unused AWS service models, the CLI) "
          f"({mib(zipped)} -> {mib(after_zipped)} zipped)")
    print(f"package size: {mib(after_zipped)} zipped, {mib(after_unzipped)} unzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
