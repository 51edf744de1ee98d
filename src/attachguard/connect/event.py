"""The Amazon Connect FILE_SCANNER request, typed, with AWS's own field names.

One event per uploaded file::

    {"Version": "1.0", "InstanceId": "...",
     "File": {"FileId": "...", "FileCreationTime": 1689291660000, "FileName": "receipt.pdf",
              "FileSizeInBytes": 1234,
              "FileLocation": {"S3Location": {"Key": "...", "Bucket": "...", "Arn": "..."}}}}

Everything in it is untrusted: the key and the file name are only ever passed to S3 as
parameters or used for their extension, never as paths on this machine. Unknown extra fields
are ignored (AWS may add some); missing or mistyped ones make the event malformed.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from attachguard.errors import AttachguardError

_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class S3Location(_Model):
    Key: str = Field(min_length=1)
    Bucket: str
    Arn: str | None = None

    @field_validator("Key")
    @classmethod
    def _key(cls, value: str) -> str:
        if len(value.encode("utf-8", "surrogatepass")) > 1024 or "\x00" in value:
            raise ValueError("not an S3 object key")
        return value

    @field_validator("Bucket")
    @classmethod
    def _bucket(cls, value: str) -> str:
        if not _BUCKET.match(value):
            raise ValueError("not an S3 bucket name")
        return value


class FileLocation(_Model):
    S3Location: S3Location


class File(_Model):
    FileId: str = Field(min_length=1, max_length=256)
    FileCreationTime: int | None = None
    FileName: str = Field(min_length=1, max_length=1024)
    FileSizeInBytes: int = Field(ge=0)
    FileLocation: FileLocation


class FileScannerEvent(_Model):
    Version: str
    InstanceId: str = Field(min_length=1)
    File: File

    @property
    def location(self) -> S3Location:
        return self.File.FileLocation.S3Location


class MalformedEvent(AttachguardError, ValueError):
    """The event is not a FILE_SCANNER request; the message names the bad fields."""


def parse_event(event: Any) -> FileScannerEvent:
    """The typed event, or `MalformedEvent` naming the fields that are missing or wrong (never
    their values: they are untrusted and may hold anything)."""
    try:
        return FileScannerEvent.model_validate(event)
    except ValidationError as exc:
        fields = sorted({".".join(str(p) for p in e["loc"]) or "(top level)" for e in exc.errors()})
        raise MalformedEvent("malformed FILE_SCANNER event: " + ", ".join(fields)) from exc
