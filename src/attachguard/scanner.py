"""Assemble a `Scanner` from the installed engines (`attachguard.registry`), each built once
with its own options from the policy and reused for every scan."""

from __future__ import annotations

from attachguard.clamav.client import ClamdClient
from attachguard.engines.base import Engine, Resources
from attachguard.engines.filetype import FileTypeEngine
from attachguard.moderation import ModerationBackend
from attachguard.pipeline import Scanner
from attachguard.policy import Policy
from attachguard.registry import load_specs


def build_engines(policy: Policy, resources: Resources) -> dict[str, Engine]:
    """Every installed engine the policy leaves on, built with its options. An engine that
    cannot run here (no clamd) is left out: the pipeline then reports it as unavailable."""
    off = policy.engines_off
    engines: dict[str, Engine] = {}
    for name, spec in load_specs().items():
        if name in off:
            continue
        engine = spec.build(policy.options(name), resources)
        if engine is not None:
            engines[name] = engine
    return engines


def build_scanner(
    policy: Policy,
    clamd: ClamdClient | None,
    extra: dict[str, Engine] | None = None,
    moderation: ModerationBackend | None = None,
    concurrency: int = 1,
) -> Scanner:
    """A scanner with every installed engine; ``clamd`` None leaves the malware engine out
    (files are then REJECTED unless the policy lists ``clamav`` in ``disabled_engines``);
    ``extra`` replaces engines by name (tests). ``moderation`` replaces the moderation backend
    that ``engines.moderation.backend`` names. ``concurrency`` is how many scans the caller
    runs at once (the service's workers): the engine pool is sized so that none waits."""
    engines = build_engines(policy, Resources(clamd=clamd, moderation=moderation))
    engines.update(extra or {})
    detector = engines.get("filetype")
    if not isinstance(detector, FileTypeEngine):
        detector = FileTypeEngine()
    return Scanner(policy, engines, detector=detector, concurrency=concurrency)
