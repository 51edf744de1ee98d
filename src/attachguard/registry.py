"""The engines this installation has: every `EngineSpec` registered under the entry-point group
``attachguard.engines`` (built-in engines register there too, in pyproject.toml).

Loaded once, lazily. When the attachguard distribution's metadata is missing (the Lambda zip
copies the package without it), the built-in engines are found by importing the modules of
``attachguard.engines`` that hold an ``ENGINE`` spec instead; a test checks that this gives the
same engines as pyproject's entry points. Routing (which engines scan which detected type) is
derived from the specs' ``types``.
"""

from __future__ import annotations

import importlib
import pkgutil
import threading
from functools import cache
from importlib.metadata import entry_points

from attachguard.codes import Code
from attachguard.engines.base import EngineSpec
from attachguard.errors import AttachguardError
from attachguard.report import FileType

GROUP = "attachguard.engines"
_lock = threading.Lock()


class RegistryError(AttachguardError, RuntimeError):
    """An engine entry point that does not load or does not declare an `EngineSpec`."""


def _builtin_specs() -> list[EngineSpec]:
    import attachguard.engines as package

    found = []
    for module in pkgutil.iter_modules(package.__path__):
        spec = getattr(importlib.import_module(f"{package.__name__}.{module.name}"), "ENGINE", None)
        if isinstance(spec, EngineSpec):
            found.append(spec)
    return found


def _entry_point_specs() -> list[EngineSpec]:
    found = []
    for point in entry_points(group=GROUP):
        try:
            spec = point.load()
        except Exception as exc:  # name the broken plug-in instead of a bare traceback
            raise RegistryError(
                f"engine {point.name!r} ({point.value}) failed to load: {exc}"
            ) from exc
        if not isinstance(spec, EngineSpec) or spec.name != point.name:
            raise RegistryError(f"entry point {point.name!r} is not an EngineSpec of that name")
        found.append(spec)
    return found


@cache
def load_specs() -> dict[str, EngineSpec]:
    """Every installed engine by name, in scan order."""
    with _lock:
        specs = _entry_point_specs()
        if not any(s.build.__module__.startswith("attachguard.") for s in specs):
            specs = _builtin_specs() + specs
        by_name: dict[str, EngineSpec] = {}
        for spec in specs:
            if by_name.setdefault(spec.name, spec) is not spec:
                raise RegistryError(f"two engines are registered as {spec.name!r}")
        return dict(sorted(by_name.items(), key=lambda kv: (kv[1].order, kv[0])))


def all_codes() -> dict[str, Code]:
    """Every finding code any installed engine (or the core) declares, by name."""
    from attachguard.codes import every

    return {code.name: code for code in every()}


def route(specs: dict[str, EngineSpec], filetype: FileType) -> tuple[str, ...]:
    """The engines that scan content of ``filetype``: those that take every item, then those
    that name its label; if none does, those that name its group; if none, for text content,
    those that take ``text:*``."""
    label = [s.name for s in specs.values() if filetype.label in s.types]
    if not label:
        label = [s.name for s in specs.values() if f"group:{filetype.group}" in s.types]
    if not label and filetype.is_text:
        label = [s.name for s in specs.values() if "text:*" in s.types]
    every = [s.name for s in specs.values() if "*" in s.types]
    return tuple(every + label)
