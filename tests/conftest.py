"""Shared fixtures. Fixture modules live in tests/support/ and are imported here."""

from __future__ import annotations

import pytest

from attachguard.policy import Policy, load_policy
from support.clamd import *  # noqa: F403  (clamd_daemon, clamd_client)
from support.oletools_data import *  # noqa: F403  (oletools_data)
from support.s3 import *  # noqa: F403  (moto's S3 server)


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The packaged default policy."""
    return load_policy()
