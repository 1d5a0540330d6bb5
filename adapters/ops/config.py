"""The operations endpoint's section of the settings (``HERALD_OPS_HOST``, ``HERALD_OPS_PORT``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import Field, model_validator

from adapters.config import Section, WholeNumber


class OpsSettings(Section):
    """Where Herald answers its operators: ``/healthz``, ``/readyz`` and ``/metrics``."""

    # Loopback unless asked: the endpoint has no login, and on a shared host only the local
    # Prometheus (or a proxy the operator chose) should read it. The image listens on 0.0.0.0.
    host: str = Field(
        "127.0.0.1",
        validation_alias="HERALD_OPS_HOST",
        pattern=r"^[A-Za-z0-9._:-]{1,253}$",  # a name, an IPv4 or an IPv6 address (no brackets)
        description="must be a host name or an IP address such as 0.0.0.0",
    )
    port: WholeNumber = Field(  # 0 picks a free port
        9090,
        validation_alias="HERALD_OPS_PORT",
        ge=0,
        le=65535,
        description="must be a port number from 1 to 65535, or off",
    )
    explicit: bool = False  # HERALD_OPS_PORT was set: the shell workspace serves it too

    def __init__(self, host: str | None = None, port: int | None = None, /, **variables: Any) -> None:
        """Validated from the variables (``HERALD_OPS_HOST``…), or an endpoint at ``host:port`` as a test builds one."""
        if host is not None:
            variables = {"HERALD_OPS_HOST": host, "HERALD_OPS_PORT": port, "explicit": False, **variables}
        super().__init__(**variables)

    @classmethod
    def switched_on(cls, values: Mapping[str, str]) -> bool:
        """On unless ``HERALD_OPS_PORT=off``."""
        return values.get("HERALD_OPS_PORT", "").lower() != "off"

    @model_validator(mode="before")
    @classmethod
    def _asked_for(cls, data: Any) -> Any:
        if isinstance(data, dict) and "explicit" not in data:
            return {**data, "explicit": "HERALD_OPS_PORT" in data}
        return data
