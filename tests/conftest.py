"""Shared fixtures (from the modules in tests/support/, loaded as plugins) and the
``integration`` marker, given to every test that needs a real engine or server."""

from __future__ import annotations

import pytest

from attachguard.policy import Policy, load_policy

pytest_plugins = [
    "support.clamd",
    "support.oletools_data",
    "support.postgres",
    "support.s3",
    "support.service",
]

# Fixtures that start a real clamd, PostgreSQL, S3 server or browser: a test that uses any of
# them (directly or through another fixture) is an integration test.
_INTEGRATION = frozenset({"clamd_daemon", "s3_server", "postgres_url", "browser"})


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _INTEGRATION.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The packaged default policy."""
    return load_policy()
