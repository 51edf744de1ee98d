"""The policy: one YAML file for the CLI, the service and the Lambda; validated at load time.

Every key is documented in `docs/policy.md`. Unknown keys, unknown finding codes and bad values
are errors that name the key. The default (`default_policy.yaml`, shipped in the package) is safe
for a contact center: anything that cannot be fully scanned is rejected.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from attachguard.codes import Action, Code, CodeError, every, lookup
from attachguard.engines.base import Context, Options
from attachguard.errors import AttachguardError
from attachguard.report import Finding, Status

_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KIB": 1024, "MIB": 1024**2}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]I?B|B)?\s*$", re.IGNORECASE)


class PolicyError(AttachguardError, ValueError):
    """A policy that cannot be used; the message names the key and the problem."""


def _size(value: Any) -> Any:
    """Accept ``20MB``, ``512KiB`` or a plain number of bytes."""
    if isinstance(value, str):
        match = _SIZE.match(value)
        if not match:
            raise ValueError(f"not a size: {value!r} (use e.g. 20MB, 512KiB or bytes)")
        return int(float(match.group(1)) * _UNITS[(match.group(2) or "").upper()])
    return value


Size = Annotated[int, BeforeValidator(_size), Field(gt=0)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Limits(_Strict):
    """How far the scanner unpacks before it gives up (and rejects, by default)."""

    max_depth: int = Field(3, ge=0, le=10)
    max_members: int = Field(1000, ge=1)
    max_expanded_bytes: Size = 200 * 1000**2
    max_ratio: float = Field(100.0, gt=1)
    max_image_pixels: int = Field(50_000_000, ge=1)

    @property
    def max_package_parts(self) -> int:
        """Zip entries of one Office or OpenDocument package: its parts are no members a
        reader unpacks but the pieces of one document (a deck of 260 slides with notes has
        1,079), so ten times ``max_members``; their bytes count against the byte limit."""
        return self.max_members * 10


class Timeouts(_Strict):
    """Seconds: one file's whole scan, and each engine's share of it."""

    scan: float = Field(30.0, gt=0, le=600)
    engine: float = Field(20.0, gt=0, le=600)


# Keys that moved, with where they went: an old policy gets a pointer, not just "unknown key".
_MOVED = {
    "moderation": "moved to engines.moderation",
    "limits.max_embedded_images": "moved to engines.moderation.max_embedded_images",
}


def _moved(data: Any) -> None:
    if not isinstance(data, dict):
        return
    limits = data.get("limits")
    old = [k for k in _MOVED if "." not in k and k in data]
    if isinstance(limits, dict):
        old += [f"limits.{k}" for k in limits if f"limits.{k}" in _MOVED]
    if old:
        raise PolicyError("\n".join(f"  {k}: {_MOVED[k]} (docs/policy.md)" for k in old))


class Policy(_Strict):
    """What is allowed in, and what each finding does to the verdict. ``engines`` holds every
    installed engine's options, validated by the engine's own model (defaults filled in)."""

    allowed_extensions: list[str]
    max_file_size: Size = 20 * 1000**2
    limits: Limits = Limits()
    timeouts: Timeouts = Timeouts()
    actions: dict[Code, Action] = {}
    disabled_engines: list[str] = []
    engines: dict[str, Any] = Field(default_factory=dict, validate_default=True)

    def options(self, engine: str) -> Options:
        """The options of ``engine`` (its own model, defaults filled in)."""
        options: Options = self.engines[engine]
        return options

    @property
    def engines_off(self) -> frozenset[str]:
        """Engines the pipeline skips: ``disabled_engines``, and those their own options
        switch off (moderation with backend none)."""
        from attachguard.registry import load_specs

        off = set(self.disabled_engines)
        off.update(n for n, s in load_specs().items() if not s.active(self.engines[n]))
        return frozenset(off)

    def context(self, deadline: float = float("inf")) -> Context:
        """What engines share from this policy for one scan (see `Context`)."""
        from attachguard.registry import load_specs

        off = self.engines_off
        wants: dict[str, int] = {}
        for name, spec in load_specs().items():
            if name in off:
                continue
            # one more than a capped engine looks at, so that its cap is seen to be passed
            most = spec.cap.limit(self.engines[name]) + 1 if spec.cap else self.limits.max_members
            for kind in spec.wants:
                wants[kind] = max(wants.get(kind, 0), most)
        return Context(self.limits, frozenset(self.allowed_extensions), wants, deadline)

    @field_validator("allowed_extensions")
    @classmethod
    def _normalise_extensions(cls, value: list[str]) -> list[str]:
        out = []
        for ext in value:
            ext = ext.strip().lower()
            if not re.fullmatch(r"\.[a-z0-9]{1,10}", ext):
                raise ValueError(f"not a file extension: {ext!r} (write it like .pdf)")
            out.append(ext)
        return out

    @field_validator("disabled_engines")
    @classmethod
    def _known_engines(cls, value: list[str]) -> list[str]:
        from attachguard.registry import load_specs

        for name in value:
            if name not in load_specs():
                raise ValueError(f"unknown engine {name!r} (installed: {', '.join(load_specs())})")
        return value

    @field_validator("engines", mode="before")
    @classmethod
    def _engine_options(cls, value: Any) -> dict[str, Options]:
        from attachguard.registry import load_specs

        if not isinstance(value, dict):
            # pydantic turns ValueError (not TypeError) into a validation error naming the key
            raise ValueError("expected a mapping of engine names to their options")  # noqa: TRY004
        specs = load_specs()
        for name in value:
            if name not in specs:
                raise ValueError(f"unknown engine {name!r} (installed: {', '.join(specs)})")
        out: dict[str, Options] = {}
        problems = []
        for name, spec in specs.items():
            given = value.get(name)
            try:
                out[name] = (
                    given
                    if isinstance(given, spec.options)
                    else (spec.options.model_validate(given or {}))
                )
            except ValidationError as exc:
                problems += [f"{name}.{line}" for line in _lines(exc)]
        if problems:
            raise ValueError("; ".join(problems))
        return out

    @field_validator("actions", mode="before")
    @classmethod
    def _known_codes(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, action in value.items():
            code = key if isinstance(key, Code) else _finding_code(key)
            if action not in {a.value for a in Action}:
                raise ValueError(f"{key}: {action!r} is not 'reject' or 'allow'")
            out[code] = Action(action)
        return out

    def action(self, code: Code) -> Action:
        """What a finding with ``code`` does: the policy's word, else the code's default."""
        return self.actions.get(code, code.default)

    def decide(self, findings: list[Finding]) -> Status:
        """APPROVED unless any finding's action is reject."""
        rejected = any(self.action(f.code) is Action.REJECT for f in findings)
        return Status.REJECTED if rejected else Status.APPROVED

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json")
        data["actions"] = {c.name: self.action(c).value for c in every() if not c.event}
        data["engines"] = {n: o.model_dump(mode="json") for n, o in self.engines.items()}
        return yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def _finding_code(key: Any) -> Code:
    try:
        code = lookup(str(key))
    except CodeError as exc:
        raise ValueError(str(exc)) from None
    if code.event:
        raise ValueError(f"{key} rejects an event before any scan; the policy cannot change it")
    return code


def _lines(err: ValidationError) -> list[str]:
    out = []
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        out.append(f"{key or '(top level)'}: {msg}")
    return out


def _format_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid policy {source}:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        if key == "engines" and e["type"] == "value_error":
            # the engines' own models were checked inside: one line per bad option
            lines += [f"  engines.{p}" for p in msg.removeprefix("Value error, ").split("; ")]
            continue
        lines.append(f"  {key or '(top level)'}: {msg}")
    return "\n".join(lines)


def parse_policy(text: str, source: str = "<string>") -> Policy:
    """Validate policy YAML; `PolicyError` names every bad key and value."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PolicyError(f"invalid policy {source}: not YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise PolicyError(f"invalid policy {source}: expected a mapping of keys at the top")
    try:
        _moved(data)
    except PolicyError as exc:
        raise PolicyError(f"invalid policy {source}:\n{exc}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        raise PolicyError(_format_error(exc, source)) from exc


def default_policy_text() -> str:
    return resources.files("attachguard").joinpath("default_policy.yaml").read_text("utf-8")


def load_policy(path: str | Path | None = None) -> Policy:
    """The policy at ``path``, or the packaged default."""
    if path is None:
        return parse_policy(default_policy_text(), "(default)")
    try:
        text = Path(path).read_text("utf-8")
    except OSError as exc:
        raise PolicyError(f"cannot read policy {path}: {exc.strerror}") from exc
    return parse_policy(text, str(path))
