"""The self-hosted attachment service: Connect's attachment lifecycle for any chat platform."""

from __future__ import annotations
