"""The policy: one YAML file for the CLI, the service and the Lambda; validated at load time.

Every key is documented in `docs/policy.md`. Unknown keys, unknown finding codes and bad values
are errors that name the key. The default (`default_policy.yaml`, shipped in the package) is safe
for a contact center: anything that cannot be fully scanned is rejected.
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from attachguard.codes import Action, FindingCode
from attachguard.moderation.taxonomy import CATEGORIES
from attachguard.report import Finding, Status

_UNITS = {"": 1, "B": 1, "KB": 1000, "MB": 1000**2, "GB": 1000**3, "KIB": 1024, "MIB": 1024**2}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMG]I?B|B)?\s*$", re.IGNORECASE)


class PolicyError(ValueError):
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
    max_embedded_images: int = Field(20, ge=0)


class Timeouts(_Strict):
    """Seconds: one file's whole scan, and each engine's share of it."""

    scan: float = Field(30.0, gt=0, le=600)
    engine: float = Field(20.0, gt=0, le=600)


class ModerationRule(_Strict):
    """What a moderation category does: reject (or allow) its labels at ``min_confidence``
    (0-100, Rekognition's scale) or above."""

    min_confidence: float = Field(50.0, ge=0, le=100)
    action: Action = Action.REJECT


def _default_categories() -> dict[str, ModerationRule]:
    blocked = (
        "Explicit",
        "Non-Explicit Nudity of Intimate parts and Kissing",
        "Violence",
        "Visually Disturbing",
        "Drugs & Tobacco",
        "Rude Gestures",
        "Hate Symbols",
    )
    allowed = ("Alcohol", "Gambling", "Swimwear or Underwear")
    rules = {name: ModerationRule() for name in blocked}
    rules.update({name: ModerationRule(action=Action.ALLOW) for name in allowed})
    return rules


class Moderation(_Strict):
    """Image moderation: which backend looks, and which Rekognition categories (L1 or L2 names)
    are blocked. The most specific rule for a label wins; unlisted categories are allowed.
    ``backend: none`` switches the moderation engine off (as if in ``disabled_engines``)."""

    backend: Literal["none", "rekognition", "local"] = "none"
    categories: dict[str, ModerationRule] = Field(default_factory=_default_categories)

    @field_validator("categories")
    @classmethod
    def _known_categories(cls, value: dict[str, ModerationRule]) -> dict[str, ModerationRule]:
        for name in value:
            if name not in CATEGORIES:
                raise ValueError(
                    f"unknown moderation category {name!r} (use a Rekognition L1 or L2 name, "
                    "see docs/policy.md)"
                )
        return value


class Policy(_Strict):
    """What is allowed in, and what each finding does to the verdict."""

    allowed_extensions: list[str]
    max_file_size: Size = 20 * 1000**2
    limits: Limits = Limits()
    timeouts: Timeouts = Timeouts()
    actions: dict[FindingCode, Action] = {}
    disabled_engines: list[str] = []
    moderation: Moderation = Moderation()

    @property
    def engines_off(self) -> frozenset[str]:
        """Engines the pipeline skips: ``disabled_engines``, and moderation with backend none."""
        off = set(self.disabled_engines)
        if self.moderation.backend == "none":
            off.add("moderation")
        return frozenset(off)

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

    @field_validator("actions", mode="before")
    @classmethod
    def _known_codes(cls, value: Any) -> Any:
        if not isinstance(value, dict):
            return value
        out = {}
        for key, action in value.items():
            if key not in FindingCode.__members__:
                raise ValueError(f"unknown finding code {key!r} (see docs/findings.md)")
            if action not in {a.value for a in Action}:
                raise ValueError(f"{key}: {action!r} is not 'reject' or 'allow'")
            out[FindingCode[key]] = Action(action)
        return out

    def action(self, code: FindingCode) -> Action:
        """What a finding with ``code`` does: the policy's word, else the code's default."""
        return self.actions.get(code, code.default)

    def decide(self, findings: list[Finding]) -> Status:
        """APPROVED unless any finding's action is reject."""
        rejected = any(self.action(f.code) is Action.REJECT for f in findings)
        return Status.REJECTED if rejected else Status.APPROVED

    def to_yaml(self) -> str:
        data = self.model_dump(mode="json")
        data["actions"] = {c.name: self.action(c).value for c in FindingCode}
        return yaml.safe_dump(data, sort_keys=False)


def _format_error(err: ValidationError, source: str) -> str:
    lines = [f"invalid policy {source}:"]
    for e in err.errors():
        key = ".".join(str(p) for p in e["loc"])
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
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
