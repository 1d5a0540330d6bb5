"""The container's health check: ``python -m adapters.ops.probe [PATH]``, PATH ``/healthz`` by default.

Exits 0 when Herald's operations endpoint answers PATH with 200, else 1 with the reason on
stderr. It finds the endpoint as Herald does (``HERALD_OPS_HOST``, ``HERALD_OPS_PORT``, from
the environment or ``.env``); an address that means "every interface" is asked on loopback.
With ``HERALD_OPS_PORT=off`` there is nothing to ask, and the check passes.

Standard library only: the slim image has no curl.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path

from dotenv import dotenv_values
from pydantic import ValidationError

from adapters.config import sentences
from adapters.ops.config import OpsSettings

_ANY = {"0.0.0.0": "127.0.0.1", "::": "::1"}


def probe_url(values: Mapping[str, str], path: str = "/healthz") -> str | None:
    """The URL to ask, or None when the endpoint is off.

    Raises:
        ValueError: when the settings name no usable endpoint.
    """
    try:
        ops = OpsSettings.read(values)
    except ValidationError as error:
        raise ValueError("; ".join(sentences(error, OpsSettings))) from None
    if ops is None:
        return None
    host = _ANY.get(ops.host, ops.host)
    return f"http://{f'[{host}]' if ':' in host else host}:{ops.port}{path}"


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, timeout: float = 3.0) -> int:
    """Ask once; 0 when the answer is 200."""
    args = list(sys.argv[1:] if argv is None else argv)
    path = args[0] if args else "/healthz"
    values = {k: v for k, v in dotenv_values(Path(".env")).items() if v is not None} if Path(".env").is_file() else {}
    values.update(os.environ if environ is None else environ)
    try:
        url = probe_url(values, path)
    except ValueError as error:
        print(f"herald probe: {error}", file=sys.stderr)
        return 1
    if url is None:
        return 0
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 0 if response.status == 200 else 1
    except urllib.error.HTTPError as error:
        print(f"herald probe: {url} answered {error.code}", file=sys.stderr)
    except OSError as error:
        print(f"herald probe: {url}: {error}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
