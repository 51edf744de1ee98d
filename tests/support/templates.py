"""The SAM templates, read as cfn-lint reads them (CloudFormation's short tags such as !Ref).

cfn-lint is imported on first use, not when a test module is collected: it pulls in sympy and
networkx (about 0.5 s) in every pytest process, most of which never read a template."""

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
    from cfnlint.decode import cfn_yaml  # type: ignore[import-untyped]

    return cfn_yaml.load(path)
