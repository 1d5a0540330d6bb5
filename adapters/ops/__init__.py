"""Herald's operations endpoint: ``/healthz``, ``/readyz`` and ``/metrics`` on ``HERALD_OPS_PORT``."""
