"""Assemble a `Scanner` from the engines this installation has: the one place that knows them.

Entry points call `build_scanner`; engines are created once here and reused for every scan.
"""

from __future__ import annotations

from attachguard.clamav.client import ClamdClient
from attachguard.engines.base import Engine
from attachguard.engines.clamav import ClamAVEngine
from attachguard.engines.filetype import FileTypeEngine
from attachguard.engines.image import ImageEngine
from attachguard.engines.moderation import ModerationEngine
from attachguard.engines.office import OfficeEngine
from attachguard.engines.pdf import PdfEngine
from attachguard.engines.polyglot import PolyglotEngine
from attachguard.engines.rtf import RtfEngine
from attachguard.engines.text import TextEngine
from attachguard.engines.zip import ZipEngine
from attachguard.moderation import ModerationBackend, load_backend
from attachguard.pipeline import Scanner
from attachguard.policy import Policy


def build_scanner(
    policy: Policy,
    clamd: ClamdClient | None,
    extra: dict[str, Engine] | None = None,
    moderation: ModerationBackend | None = None,
) -> Scanner:
    """A scanner with every local engine; ``clamd`` None leaves the malware engine out (files
    are then REJECTED unless the policy lists ``clamav`` in ``disabled_engines``); ``extra``
    adds or replaces engines. ``moderation`` is the image-moderation backend; by default the one
    the policy's ``moderation.backend`` names (none: the engine is disabled)."""
    filetype = FileTypeEngine()
    engines: dict[str, Engine] = {
        "filetype": filetype,
        "polyglot": PolyglotEngine(),
        "image": ImageEngine(),
        "text": TextEngine(),
        "office": OfficeEngine(),
        "rtf": RtfEngine(),
        "pdf": PdfEngine(),
        "zip": ZipEngine(),
    }
    if clamd is not None:
        engines["clamav"] = ClamAVEngine(clamd)
    if moderation is None:
        moderation = load_backend(policy.moderation.backend)
    if moderation is not None:
        engines["moderation"] = ModerationEngine(moderation)
    engines.update(extra or {})
    return Scanner(policy, engines, detector=filetype)
