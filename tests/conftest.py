"""Shared fixtures (from the modules in tests/support/, loaded as plugins) and the
``integration`` marker, given to every test that needs a real engine or server."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

if sys.dont_write_bytecode and not sys.pycache_prefix:
    # PYTHONDONTWRITEBYTECODE (set in many images) would have every run compile the package and
    # assertion-rewrite the 90 test modules again: 4-5 s of each run. The compiled files go to
    # .pytest_cache, never next to the sources.
    sys.pycache_prefix = str(Path(__file__).resolve().parent.parent / ".pytest_cache" / "pycache")
    sys.dont_write_bytecode = False
    # The same for the processes started from here (pytest-xdist's workers, the CLI and PDF
    # reader subprocesses): a worker assertion-rewrote the 40 modules of pytest's plugins
    # (xdist, anyio, hypothesis) again on every run, before this file could change anything.
    os.environ["PYTHONPYCACHEPREFIX"] = sys.pycache_prefix
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

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


@pytest.hookimpl(tryfirst=True)
def pytest_cmdline_main(config: pytest.Config) -> None:
    """``pytest -m "not integration"`` runs on every core (pytest-xdist) unless ``-n`` is given:
    the unit tests share nothing, while the integration tests share one clamd, PostgreSQL and
    browser and stay in one process. One worker more than the cores: a quarter of the subset's
    time is tests waiting (for a deadline, a lease, a retry), when another worker can use the
    core (2 cores: 22.4-23.0 s against 24.8-26.8 s with two, alternating). Runs before xdist's
    own hook, which starts the workers."""
    option = config.option
    unit_subset = " ".join(option.markexpr.split()) == "not integration"
    if (
        unit_subset
        and config.pluginmanager.hasplugin("xdist")
        and option.numprocesses is None
        and not option.collectonly
        and not option.usepdb
        and "PYTEST_XDIST_WORKER" not in os.environ
        and (os.cpu_count() or 1) > 1
    ):
        option.numprocesses = (os.cpu_count() or 1) + 1
        option.dist = "worksteal"


@pytest.hookimpl(hookwrapper=True)
def pytest_collection() -> Iterator[None]:
    """The collector's garbage collections walked a heap growing to the whole test tree, and
    then every full collection during the tests walked it again: 7.9 s of the unit subset's 61
    CPU seconds (three workers), for objects that live as long as the run. Collection runs
    without them; what it built is frozen (never walked again); the young generation is
    collected every 10,000 allocations instead of 700. The subset's CPU time: 60-62 s before,
    54-56 s after (three alternating runs on a loaded machine)."""
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        gc.enable()
        gc.set_threshold(10_000, 10, 10)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure() -> None:
    """Every object is about to go: freeze them, so that the collections the interpreter runs
    while it shuts down skip them. A worker that walked its whole heap there took 1-3 s after
    its last test before the run could end."""
    gc.freeze()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if _INTEGRATION.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def policy() -> Policy:
    """The packaged default policy."""
    return load_policy()
