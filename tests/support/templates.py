"""The SAM templates, read as SAM reads them (CloudFormation's short tags such as !Ref), by
the SAM translator's own YAML reader: the same dictionaries as cfn-lint's reader, whose import
pulls in sympy and networkx (0.47 s against 0.02 s, in every pytest process reading one)."""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent.parent
TEMPLATES = [ROOT / "template.yaml", ROOT / "deploy/container/template.yaml"]


def load_template(path: Path | str) -> Any:
    """The template at ``path`` as a dictionary, the test's own copy (parsed once per process:
    about 25 ms each time, for some 90 tests)."""
    return copy.deepcopy(_parsed(str(path)))


@functools.cache
def _parsed(path: str) -> Any:
    from samtranslator.yaml_helper import yaml_parse  # type: ignore[import-untyped]

    return yaml_parse(Path(path).read_text(encoding="utf-8"))
