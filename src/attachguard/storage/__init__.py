"""Object stores for attachment bytes: a local folder or any S3 API, behind one protocol."""

from __future__ import annotations

from attachguard.storage.base import BadKey, NotFound, ObjectStore, check_key

__all__ = ["BadKey", "NotFound", "ObjectStore", "check_key"]
