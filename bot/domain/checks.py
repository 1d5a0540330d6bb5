"""The checks a communiqué must pass before it may be sent. Pure functions."""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from bot.domain.destinations import Platform
from bot.domain.plan import Group

# Slack renders a communiqué as section blocks of at most 3,000 characters each and
# rejects messages whose blocks add up to much more than ~12,000 (platform-facts A5);
# Herald keeps one communiqué in one section, so 3,000 is the limit that counts.
PLATFORM_LIMITS: dict[Platform, int] = {
    Platform.SLACK: 3000,
    Platform.DISCORD: 1900,  # 2,000 per message, less the line under it that asks for a receipt
    Platform.EMAIL: 100_000,
    Platform.WEBHOOK: 100_000,
    Platform.SHELL: 100_000,
    Platform.APPRISE: 10_000,  # Apprise trims to each service's own limit
    Platform.WEB: 100_000,
    Platform.SUBSCRIBERS: 1900,  # a subscriber may be on Discord
}

_PLACEHOLDER = re.compile(
    r"""
    \b(?:TODO|TBD|FIXME)\b | \bXXX+\b         # the usual markers, in capitals
    | \{\{ | \}\} | \{% | %\}                # template syntax left in the text
    | <(?![@#!/])(?!(?:b|i|u|s|p|a|br|hr|em|strong|code|pre|ul|ol|li|div|span|h[1-6]|table|tr|td|th
                     |thead|tbody|blockquote|small|sub|sup|img|del|ins|mark|kbd)\b)
      [A-Za-z][A-Za-z0-9\ _\-]{0,40}>                 # <placeholder>; not HTML tags, Slack's <@U1>, <#C1>, <!here>
    | \[(?i:insert|placeholder)[^\]]*\]        # [insert date], [placeholder]
    """,
    re.VERBOSE,
)
_BROADCAST = re.compile(
    r"<!(?:channel|here|everyone)(?:\|[^>]*)?>|(?<![\w.+-])@(?:everyone|here|channel)\b(?!\.\w)", re.IGNORECASE
)
# Characters that show as nothing: a mention written with one inside still reads as a mention.
_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u2060\u2061\u2062\u2063\ufeff"))
_LABELLED_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)|<((?:https?):[^>|]*)\|([^>]+)>")
_LOOKS_LIKE_HOST = re.compile(r"^(?:[a-z][a-z0-9+.-]*://)?((?:[a-z0-9-]+\.)+[a-z]{2,})(?:[:/?#]|$)", re.IGNORECASE)
_SLACK_LINK = re.compile(r"<((?:https?|mailto):[^>|]*)(?:\|[^>]*)?>")
_MD_LINK = re.compile(r"\]\(([^)\s]*)\)")
_BARE_URL = re.compile(r"(?<![<(|])\b(?:https?|ftp)://[^\s<>()\[\]]*|(?<![<(|/\w])\bwww\.[^\s<>()\[\]]*", re.IGNORECASE)
_VERSION_TOKEN = re.compile(r"(?<![\w./-])v?(\d+\.\d+(?:\.\d+){0,2}(?:-[0-9A-Za-z.]+)?)(?![\w/-]|\.\d)")


class Severity(StrEnum):
    """How much a failed check matters."""

    BLOCKING = "blocking"  # nothing can be sent until it passes
    WARNING = "warning"  # shown to the person, does not stop the send


@dataclass(frozen=True, slots=True)
class CheckResult:
    """The outcome of one check on one communiqué or release."""

    code: str
    ok: bool
    severity: Severity
    message: str

    @property
    def blocks(self) -> bool:
        """Whether this result stops the send."""
        return not self.ok and self.severity is Severity.BLOCKING


def _ok(code: str, message: str) -> CheckResult:
    return CheckResult(code, True, Severity.BLOCKING, message)


def _fail(code: str, message: str, severity: Severity = Severity.BLOCKING) -> CheckResult:
    return CheckResult(code, False, severity, message)


def check_placeholders(text: str) -> CheckResult:
    """No leftover TODO, TBD, XXX, ``{{ }}`` or ``<placeholder>`` in the text."""
    found = sorted({m.group(0) for m in _PLACEHOLDER.finditer(text)})
    if found:
        shown = ", ".join(repr(f) for f in found[:5])
        return _fail("placeholders", f"leftover placeholder text: {shown}")
    return _ok("placeholders", "no leftover placeholders")


def check_length(text: str, platforms: Iterable[Platform]) -> CheckResult:
    """The text fits every target platform's limit."""
    too_long = [
        f"{p.value} allows {PLATFORM_LIMITS[p]:,}" for p in sorted(set(platforms)) if len(text) > PLATFORM_LIMITS[p]
    ]
    if too_long:
        return _fail("length", f"{len(text):,} characters is too long: " + "; ".join(too_long))
    return _ok("length", f"{len(text):,} characters, within every platform's limit")


def as_read(text: str) -> str:
    """The text as a reader's client shows it: entities decoded (``&lt;`` is ``<``), compatibility forms
    folded (NFKC: ``＠`` is ``@``), invisible characters dropped."""
    return unicodedata.normalize("NFKC", html.unescape(text)).translate(_INVISIBLE)


def check_broadcast_mentions(text: str, allowed: bool) -> CheckResult:
    """No @channel/@here/@everyone, in any case or disguise, unless the group allows broadcast mentions."""
    found = sorted({m.group(0) for m in _BROADCAST.finditer(as_read(text))})
    if not found:
        return _ok("mentions", "no broadcast mentions")
    if allowed:
        return CheckResult("mentions", True, Severity.WARNING, f"broadcast mention allowed: {', '.join(found)}")
    return _fail(
        "mentions",
        f"broadcast mention {', '.join(found)} is not allowed for this group "
        "(set allow_broadcast_mentions = true to permit it)",
    )


def _url_problem(url: str) -> str | None:
    if url.lower().startswith("mailto:"):
        return None if "@" in url else "mailto link has no address"
    if url.lower().startswith("www."):
        return "link has no scheme (write https://…)"
    try:
        parts = urlsplit(url)
        port = parts.port  # raises on a bad port
    except ValueError as error:
        return str(error)
    del port
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme!r} is not http or https"
    host = parts.hostname or ""
    if not host or (host != "localhost" and "." not in host) or host.startswith(".") or ".." in host:
        return "host name is missing or incomplete"
    if not re.fullmatch(r"[A-Za-z0-9.\-\[\]:]+", host):
        return "host name has characters a URL cannot have"
    return None


def find_links(text: str) -> list[str]:
    """Every link in the text, in the forms Slack, Markdown and plain text use."""
    links = [m.group(1) for m in _SLACK_LINK.finditer(text)]
    links += [m.group(1) for m in _MD_LINK.finditer(text)]
    links += [m.group(0).rstrip(".,;:!?'\"") for m in _BARE_URL.finditer(text)]
    return links


def _host(text: str) -> str | None:
    found = _LOOKS_LIKE_HOST.match(text.strip())
    return found.group(1).lower().removeprefix("www.") if found else None


def spoofed_links(text: str) -> list[str]:
    """Links whose text shows one address and whose target is another (``[https://good](https://evil)``)."""
    spoofed: list[str] = []
    for found in _LABELLED_LINK.finditer(as_read(text)):
        label, target = (found.group(1), found.group(2)) if found.group(1) else (found.group(4), found.group(3))
        shown, real = _host(label), _host(target)
        if shown is not None and real is not None and shown != real:
            spoofed.append(f"{label.strip()} goes to {real}")
    return spoofed


def check_links(text: str) -> CheckResult:
    """Every link is a well-formed http(s) URL, and none shows an address it does not go to."""
    bad = [f"{url} ({problem})" for url in find_links(text) if (problem := _url_problem(url))]
    if bad:
        return _fail("links", "malformed link: " + "; ".join(bad[:3]))
    spoofed = spoofed_links(text)
    if spoofed:
        return _fail("links", "a link's text shows another address than it goes to: " + "; ".join(spoofed[:3]))
    count = len(find_links(text))
    return _ok("links", f"{count} link{'s' if count != 1 else ''}, all well formed")


def mentions_version(text: str, version: str) -> bool:
    """Whether the text names ``version`` as a word of its own (``2.4`` is not in ``2.4.1`` or ``12.4``)."""
    pattern = rf"(?<![\w./+-])v?{re.escape(version)}(?![\w+-]|\.\w)"
    return re.search(pattern, text) is not None


def check_version(text: str, version: str) -> list[CheckResult]:
    """The text names the release's version and no other release version."""
    tokens = {m.group(1) for m in _VERSION_TOKEN.finditer(text)}
    results: list[CheckResult] = []
    if not mentions_version(text, version):
        results.append(_fail("version", f"the text does not mention version {version}"))
    else:
        results.append(_ok("version", f"mentions version {version}"))
    others = sorted(t for t in tokens if t != version and not version.startswith(t + "."))
    if others:
        results.append(
            _fail("other-versions", f"also mentions {', '.join(others)}; is that intended?", Severity.WARNING)
        )
    return results


def check_text(text: str, group: Group, version: str) -> list[CheckResult]:
    """All checks on a communiqué's text."""
    platforms = {d.platform for d in group.to}
    return [
        check_placeholders(text),
        check_length(text, platforms),
        check_broadcast_mentions(text, group.allow_broadcast_mentions),
        check_links(text),
        *check_version(text, version),
    ]
