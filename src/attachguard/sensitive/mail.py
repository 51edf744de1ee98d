"""The text of an e-mail message (.eml) as a mail client shows it, and of a web archive (MHT:
a single-file web page, a MIME message too) as Word, Excel or a browser shows it.

A message's text is often encoded: base64 or quoted-printable (whose soft line breaks, ``=``
at the end of a line, fall anywhere, inside a number too). The standard library's parser
decodes each text part (``text/plain``; ``text/html`` as a browser shows it, `markup`) and the
subject; the raw message is read as well, by the caller. Other parts (attachments) are not
read here: they are counted in ``unread``. Parts are read up to `MAX_PARTS`.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage

from attachguard.sensitive import markup
from attachguard.sensitive.passages import Extract, Passage

MAX_PARTS = 200
_DAMAGED = (ValueError, LookupError, TypeError, AttributeError, IndexError, UnicodeError)


def read(data: bytes) -> Extract:
    """The subject and the decoded text parts of a message (see the module docstring)."""
    extract = Extract()
    try:
        message = email.message_from_bytes(data, policy=email.policy.default)
        subject = str(message.get("subject", ""))
        parts = list(message.walk())[:MAX_PARTS]
    except _DAMAGED:
        extract.unread.append("the message could not be parsed")
        return extract
    if subject.strip():
        extract.passages.append(Passage(subject, "subject"))
    attachments = 0
    for number, part in enumerate(parts, 1):
        if part.is_multipart():
            continue
        text = _text(part) if isinstance(part, EmailMessage) else None
        if text is None:
            attachments += 1
        elif text.strip():
            extract.passages.append(Passage(text, f"message part {number}"))
    if attachments:
        extract.unread.append(f"{attachments} attachment(s) inside the message")
    return extract


def _text(part: EmailMessage) -> str | None:
    """A text part's decoded text (HTML as shown); None for any other part."""
    if part.get_content_maintype() != "text" or part.get_filename():
        return None
    try:
        content = part.get_content()
    except _DAMAGED:
        return None
    if not isinstance(content, str):
        return None
    return markup.shown_text(content) if part.get_content_subtype() == "html" else content
