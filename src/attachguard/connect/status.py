"""What ``attachguard connect status`` says about an associated scanner's ClamAV signatures.

Read from the function's configuration (``ATTACHGUARD_CLAMD``, ``ATTACHGUARD_DEFINITIONS``)
and the S3 mirror's manifest: the newest database's version and age, which the scanners load
within a few minutes (`attachguard.connect.antivirus`). What each running environment has
actually loaded is in its log lines (``signature_version``, ``signature_age_hours``) and the
``SignatureAgeHours`` metric. Never raises: a status line that cannot be read says why.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from attachguard.connect.definitions import Location, age_hours, read_manifest
from attachguard.connect.s3util import error_code

STALE_HOURS = 24.0  # the age the templates alarm at


def signature_line(lam: Any, s3: Any, function_arn: str, now: float | None = None) -> str:
    """One line on the signatures of the scanner at ``function_arn``."""
    try:
        config = lam.get_function_configuration(FunctionName=function_arn)
    except Exception as exc:
        return f"signatures: unknown (cannot read the function's configuration: {_why(exc)})"
    env = config.get("Environment", {}).get("Variables", {})
    clamd = env.get("ATTACHGUARD_CLAMD") or "none"
    where = env.get("ATTACHGUARD_DEFINITIONS")
    if clamd.lower() == "none":
        return "signatures: none (no malware engine in this deployment)"
    if not where:
        if clamd == "private":
            return "signatures: those of the image's build (no S3 mirror: rebuild to update)"
        return f"signatures: those of the clamd at {clamd}"
    return _mirror_line(s3, where, now)


def _mirror_line(s3: Any, where: str, now: float | None) -> str:
    try:
        manifest = read_manifest(s3, Location.parse(where))
    except Exception as exc:
        return f"signatures: unknown (cannot read the mirror {where}: {_why(exc)})"
    newest = manifest.newest() if manifest is not None else None
    if manifest is None or newest is None or newest.built is None:
        return f"signatures: the mirror {where} is empty (invoke the updater once); the image's"
    age = age_hours(newest.built, now) or 0.0
    built = datetime.fromtimestamp(newest.built, UTC)
    stale = f" - OVER {STALE_HOURS:.0f} HOURS OLD" if age > STALE_HOURS else ""
    return (
        f"signatures: daily {newest.version}, built {built:%Y-%m-%d %H:%M} UTC "
        f"({age:.1f} h ago){stale}; mirror {where}"
    )


def _why(exc: Exception) -> str:
    code, _ = error_code(exc)
    return code or type(exc).__name__
