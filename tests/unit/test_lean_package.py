"""The package trim (infra/lean_package.py) keeps the model of every AWS service the code calls."""
from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "infra"))
import lean_package  # noqa: E402  (a build script, not a package)

# client("s3"), self._client("ecs"), boto3.client(\n "apigatewaymanagementapi", ...)
CLIENT_CALL = re.compile(r"""client\(\s*["']([a-z0-9-]+)["']""")


def services_called() -> set[str]:
    found = {"dynamodb"}  # pynamodb builds its own dynamodb client
    for path in [ROOT / "app.py", *(ROOT / "chalicelib").rglob("*.py")]:
        found.update(CLIENT_CALL.findall(path.read_text()))
    return found


def test_every_service_the_functions_call_keeps_its_model_in_the_package():
    called = services_called()
    assert {"s3", "sqs", "kms", "codebuild", "ecs"} <= called  # the scan sees the code's clients
    missing = called - lean_package.KEPT_SERVICES
    assert not missing, f"add {sorted(missing)} to KEPT_SERVICES in infra/lean_package.py"


def test_only_other_services_models_are_dropped_and_botocores_own_data_stays():
    assert lean_package.dropped("botocore/data/ec2/2016-11-15/service-2.json.gz")
    assert not lean_package.dropped("botocore/data/s3/2006-03-01/service-2.json.gz")
    assert not lean_package.dropped("botocore/data/endpoints.json")
    assert not lean_package.dropped("botocore/data/partitions.json")
    assert not lean_package.dropped("chalicelib/data/ec2/x.json")
