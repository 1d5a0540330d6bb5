"""The operations endpoint's section of the settings (``HERALD_OPS_HOST``, ``HERALD_OPS_PORT``)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

_HOST = re.compile(r"^[A-Za-z0-9._:-]{1,253}\Z")  # a name, an IPv4 or an IPv6 address (no brackets)


@dataclass(frozen=True, slots=True)
class OpsSettings:
    """Where Herald answers its operators: ``/healthz``, ``/readyz`` and ``/metrics``."""

    host: str  # HERALD_OPS_HOST: 127.0.0.1 unless set (the container image sets 0.0.0.0)
    port: int  # HERALD_OPS_PORT: 9090 unless set; 0 picks a free port
    explicit: bool = False  # HERALD_OPS_PORT was set: the shell workspace serves it too


def ops_settings(values: Mapping[str, str], problems: list[str]) -> OpsSettings | None:
    """``HERALD_OPS_PORT`` and ``HERALD_OPS_HOST``; None when the port is ``off``."""
    port_text = values.get("HERALD_OPS_PORT", "").strip().lower()
    explicit = bool(port_text)
    if port_text == "off":
        return None
    port_text = port_text or "9090"
    port = int(port_text) if port_text.isdigit() and int(port_text) < 65536 else -1
    if port < 0:
        problems.append(f"HERALD_OPS_PORT must be a port number from 1 to 65535, or off (got {port_text[:10]!r})")
    # Loopback unless asked: the endpoint has no login, and on a shared host only the local
    # Prometheus (or a proxy the operator chose) should read it. The image listens on 0.0.0.0.
    host = values.get("HERALD_OPS_HOST", "").strip() or "127.0.0.1"
    if not _HOST.match(host):
        problems.append(f"HERALD_OPS_HOST must be a host name or an IP address such as 0.0.0.0 (got {host[:40]!r})")
    return OpsSettings(host=host, port=max(port, 0), explicit=explicit)
