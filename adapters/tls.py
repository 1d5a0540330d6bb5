"""The one place Herald builds the TLS context its own mail connections verify servers with.

SMTP and IMAP both take theirs from ``verifying_context``: the server's certificate must
chain to a trusted CA and name the host Herald dialled, or nothing is sent. Trusted CAs are
the system's (which ``SSL_CERT_FILE`` and ``SSL_CERT_DIR`` replace, as OpenSSL reads them),
or, when a CA file is set (``HERALD_SMTP_CA_FILE``, ``HERALD_IMAP_CA_FILE``), that file's
alone. The HTTP clients (webhooks, Slack, Discord, through aiohttp; Apprise, through
requests) verify by their libraries' defaults, which this module does not change.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from bot.domain.errors import ConfigError

_HOST_MISMATCH = (62, 64)  # X509_V_ERR_HOSTNAME_MISMATCH, X509_V_ERR_IP_ADDRESS_MISMATCH


def verifying_context(ca_file: Path | None = None, *, setting: str = "the CA file") -> ssl.SSLContext:
    """A client context that checks the server's certificate and host name, TLS 1.2 or later.

    Raises:
        ConfigError: when ``ca_file`` (named by ``setting``) holds no certificate OpenSSL can read.
    """
    try:
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(ca_file) if ca_file else None)
    except (OSError, ssl.SSLError):  # the file vanished, or is not PEM
        raise ConfigError(f"{setting} names {ca_file}, which holds no PEM certificate Herald can read") from None
    context.verify_mode = ssl.CERT_REQUIRED  # create_default_context's own choice, stated where it matters
    context.check_hostname = True
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


def certificate_failure(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate check that failed inside ``error`` (itself, or what caused it), if any.

    Libraries wrap it: aiosmtplib in ``SMTPConnectError``, aiohttp in
    ``ClientConnectorCertificateError`` (itself an ``SSLCertVerificationError`` without
    OpenSSL's verdict, hence the look for ``verify_code``).
    """
    seen: BaseException | None = error
    for _ in range(5):  # a library wraps the ssl error once or twice at most
        if seen is None:
            return None
        if isinstance(seen, ssl.SSLCertVerificationError) and hasattr(seen, "verify_code"):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def why_untrusted(error: ssl.SSLCertVerificationError, *, ca_setting: str | None = None) -> str:
    """Half a sentence saying what was wrong with the certificate, and what the operator can do about it."""
    reason = str(error.verify_message or error.reason or "it did not verify").rstrip(".")
    if error.verify_code in _HOST_MISMATCH:
        return f"its certificate is for another host ({reason}); use a host name the certificate names"
    advice = f"; if the server is yours, trust its CA with {ca_setting}" if ca_setting else ""
    return f"its certificate is not trusted ({reason}){advice}"
