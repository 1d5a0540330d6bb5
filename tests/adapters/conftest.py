"""What every adapter's tests may use: throwaway TLS certificates that nothing trusts by default."""

from __future__ import annotations

import pytest

from tests.servers.tls import OPENSSL, Certificates, make_certificates


@pytest.fixture(scope="session")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA that no system trusts, and server certificates it signed (made fresh for this run)."""
    if OPENSSL is None:
        pytest.skip("openssl is needed to make test certificates")
    return make_certificates(tmp_path_factory.mktemp("tls"))
