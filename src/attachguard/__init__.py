"""attachguard: may this chat attachment reach the other side? APPROVED or REJECTED, and why.

The public API (imported lazily, so that ``import attachguard`` stays cheap)::

    from attachguard import build_scanner, load_policy
    with build_scanner(load_policy(), clamd=None) as scanner:
        report = scanner.scan(data, "invoice.pdf")
    report.status, report.reasons, report.customer_reasons
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

__all__ = [
    "Action",
    "AttachguardError",
    "Code",
    "Context",
    "EngineSpec",
    "FileType",
    "Finding",
    "Item",
    "LimitExceeded",
    "Options",
    "Policy",
    "PolicyError",
    "Report",
    "Result",
    "Scanner",
    "Status",
    "__version__",
    "build_scanner",
    "declare",
    "load_policy",
    "parse_policy",
]

_HOMES = {
    "Action": "attachguard.codes",
    "Code": "attachguard.codes",
    "declare": "attachguard.codes",
    "AttachguardError": "attachguard.errors",
    "LimitExceeded": "attachguard.errors",
    "Context": "attachguard.engines.base",
    "EngineSpec": "attachguard.engines.base",
    "Item": "attachguard.engines.base",
    "Options": "attachguard.engines.base",
    "Result": "attachguard.engines.base",
    "FileType": "attachguard.report",
    "Finding": "attachguard.report",
    "Report": "attachguard.report",
    "Status": "attachguard.report",
    "Policy": "attachguard.policy",
    "PolicyError": "attachguard.policy",
    "load_policy": "attachguard.policy",
    "parse_policy": "attachguard.policy",
    "Scanner": "attachguard.pipeline",
    "build_scanner": "attachguard.scanner",
}

if TYPE_CHECKING:
    from attachguard.codes import Action, Code, declare
    from attachguard.engines.base import Context, EngineSpec, Item, Options, Result
    from attachguard.errors import AttachguardError, LimitExceeded
    from attachguard.pipeline import Scanner
    from attachguard.policy import Policy, PolicyError, load_policy, parse_policy
    from attachguard.report import FileType, Finding, Report, Status
    from attachguard.scanner import build_scanner


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'attachguard' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
