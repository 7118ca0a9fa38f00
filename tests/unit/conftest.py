"""The app matrix: template tests that take ``app_variant`` run in every kind of app a user has."""

from __future__ import annotations

import pytest

from tests.unit.cdk_helpers import APP_VARIANTS


@pytest.fixture(scope="session", params=APP_VARIANTS)
def app_variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)
