"""Small, forgiving helpers for mail as the outside world writes it."""

from __future__ import annotations

import re
from email.header import decode_header, make_header
from email.message import Message

ADDRESS = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
MESSAGE_ID = re.compile(r"<([^<>@\s]+)@[^<>\s]+>")
ENHANCED_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
BASIC_REPLY = re.compile(r"(?<!\d)([245])\d\d(?!\d)")


def header(mail: Message, name: str) -> str:
    """A header's value, decoded (RFC 2047) and unfolded; empty when absent or undecodable."""
    value = mail.get(name)
    if value is None:
        return ""
    try:
        text = str(make_header(decode_header(str(value))))
    except (LookupError, UnicodeError, ValueError, TypeError):
        text = str(value)
    return " ".join(text.split())


_TYPE = re.compile(r"^[A-Za-z][A-Za-z0-9-]*\s*;\s*")


def typed(value: str) -> str:
    """``rfc822; ada@example.com`` -> ``ada@example.com``: the type before the semicolon dropped, if it has one."""
    return _TYPE.sub("", " ".join(value.split()), count=1)


def address_in(value: str) -> str | None:
    """The mail address in a field such as ``rfc822;<ada@example.com>``, lower-cased; None if it holds none."""
    found = ADDRESS.search(value)
    return found.group(0).strip(".").lower() if found else None


def status_code(*texts: str) -> str:
    """The first enhanced status code (``5.1.1``) in ``texts``, else ``N.0.0`` from a basic reply code (``550``)."""
    for text in texts:
        found = ENHANCED_STATUS.search(text)
        if found:
            return ".".join(found.groups())
    for text in texts:
        found = BASIC_REPLY.search(text)
        if found:
            return f"{found.group(1)}.0.0"
    return ""


def text_of(part: Message) -> str:
    """A leaf part's text, its transfer encoding undone and its charset decoded (bad bytes replaced)."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        raw = part.get_payload()
        return raw if isinstance(raw, str) else ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("latin-1")


def message_ids(*values: str) -> list[str]:
    """The left parts of the Message-IDs in header values, lower-cased, in order."""
    return [found.group(1).lower() for value in values for found in MESSAGE_ID.finditer(value)]


def notice_text(mail: Message) -> str:
    """The human-readable text the reporting server wrote: text parts outside any returned message."""
    chunks: list[str] = []
    _collect_text(mail, chunks)
    return "\n".join(chunks)


def _collect_text(part: Message, chunks: list[str]) -> None:
    content_type = part.get_content_type()
    if content_type.startswith("message/") or content_type == "text/rfc822-headers":
        return  # the returned original, or a report's machine fields
    if part.is_multipart():
        payload = part.get_payload()
        for child in payload if isinstance(payload, list) else []:
            if isinstance(child, Message):
                _collect_text(child, chunks)
        return
    if part.get_content_maintype() == "text":
        chunks.append(text_of(part))
