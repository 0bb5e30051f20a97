"""Session fixtures of the integration tier that more than one module shares."""
from __future__ import annotations

import pytest

from tests.support.lambda_package import Package, make_package


@pytest.fixture(scope="session")
def lambda_package() -> Package:
    return make_package()
