"""The container image and the compose file hold what self-hosting relies on.

No Docker daemon is needed: the files are read as data. ``docker compose config`` and a
real ``docker compose up`` are the README's smoke test (Deploy).
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent


def _instructions(text: str) -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n(\s*#.*\n)*", " ", text)
    found = []
    for line in joined.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


@pytest.fixture(scope="module")
def dockerfile() -> list[tuple[str, str]]:
    return _instructions((ROOT / "Dockerfile").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


def _last(instructions: list[tuple[str, str]], keyword: str) -> str:
    values = [rest for kw, rest in instructions if kw == keyword]
    assert values, f"the Dockerfile has no {keyword}"
    return values[-1]


def test_the_image_runs_on_python_311_slim(dockerfile: list[tuple[str, str]]) -> None:
    """Every stage starts from python:3.11-slim (through the PYTHON_IMAGE argument)."""
    assert ("ARG", "PYTHON_IMAGE=python:3.11-slim") in dockerfile
    assert [rest.split()[0] for kw, rest in dockerfile if kw == "FROM"] == ["${PYTHON_IMAGE}", "${PYTHON_IMAGE}"]


def test_the_image_installs_herald_without_its_dev_tools(dockerfile: list[tuple[str, str]]) -> None:
    """Herald is built as a wheel from the project and installed without extras: no pytest, ruff or mypy."""
    runs = " ".join(rest for kw, rest in dockerfile if kw == "RUN")
    assert "pip wheel --no-cache-dir --no-deps --wheel-dir /wheels ." in runs
    assert "pip install --no-cache-dir --constraint /tmp/requirements.lock /wheels/*.whl" in runs
    assert "[dev]" not in runs


def test_the_image_runs_as_an_unprivileged_user(dockerfile: list[tuple[str, str]]) -> None:
    """The final USER is a numeric uid other than root's."""
    user = _last(dockerfile, "USER").split(":")[0]
    assert user.isdigit()
    assert int(user) != 0


def test_the_image_checks_its_health_on_the_ops_port(dockerfile: list[tuple[str, str]]) -> None:
    """HEALTHCHECK runs the urllib probe against /healthz, and the endpoint listens on every interface there."""
    check = _last(dockerfile, "HEALTHCHECK")
    assert '"python", "-m", "adapters.ops.probe", "/healthz"' in check
    assert "--interval=" in check
    env = shlex.split(" ".join(rest for kw, rest in dockerfile if kw == "ENV"))
    assert {"HERALD_OPS_HOST=0.0.0.0", "HERALD_OPS_PORT=9090", "HERALD_LOG_FORMAT=json"} <= set(env)
    assert "9090" in _last(dockerfile, "EXPOSE").split()


def test_the_image_runs_herald_run_by_default(dockerfile: list[tuple[str, str]]) -> None:
    """The entrypoint is herald, and its default command run."""
    assert _last(dockerfile, "ENTRYPOINT") == '["herald"]'
    assert _last(dockerfile, "CMD") == '["run"]'


def test_the_build_context_leaves_secrets_and_local_state_out() -> None:
    """.dockerignore ignores everything but the packages, pyproject.toml and README.md: no .env, .venv or .db."""
    lines = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "*"
    kept = {line[1:] for line in lines if line.startswith("!")}
    assert kept == {"pyproject.toml", "requirements.lock", "README.md", "bot", "adapters", "storage"}


def test_postgresql_15_has_a_healthcheck(compose: dict[str, Any]) -> None:
    """The database is PostgreSQL 15 with a pg_isready healthcheck and a named volume."""
    db = compose["services"]["db"]
    assert db["image"] == "postgres:15"
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert db["volumes"] == ["pgdata:/var/lib/postgresql/data"]
    assert "pgdata" in compose["volumes"]


def test_the_schema_is_migrated_once_before_herald_serves(compose: dict[str, Any]) -> None:
    """A one-shot service runs `herald db upgrade` once the database is healthy; Herald waits for it to succeed."""
    migrate, herald = compose["services"]["migrate"], compose["services"]["herald"]
    assert migrate["command"] == ["db", "upgrade"]
    assert migrate["depends_on"] == {"db": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    assert herald["depends_on"] == {
        "db": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_two_replicas_share_one_database_and_one_env_file(compose: dict[str, Any]) -> None:
    """Herald runs as two replicas of one image, on the compose database, configured from .env."""
    services = compose["services"]
    herald = services["herald"]
    assert herald["deploy"]["replicas"] == 2
    assert herald["command"] == ["run"]
    for name in ("herald", "migrate"):
        assert services[name]["image"] == services["herald"]["image"]
        assert services[name]["env_file"] == [{"path": ".env", "required": False}]
        assert "@db:5432/" in services[name]["environment"]["DATABASE_URL"]
    assert "container_name" not in herald  # a fixed name would stop the second replica


def test_each_replica_publishes_its_ops_port_on_loopback(compose: dict[str, Any]) -> None:
    """Each replica's port 9090 is published on 127.0.0.1, from a range with one host port per replica."""
    [port] = compose["services"]["herald"]["ports"]
    host, published, target = port.rsplit(":", 2)
    first, last = (int(p) for p in published.split("-"))
    assert (host, target) == ("127.0.0.1", "9090")
    assert last - first + 1 == compose["services"]["herald"]["deploy"]["replicas"]


def test_no_password_is_written_into_the_compose_file(compose: dict[str, Any]) -> None:
    """PostgreSQL's password comes from the environment and is required: the file holds no default."""
    text = (ROOT / "compose.yaml").read_text(encoding="utf-8")
    assert "${POSTGRES_PASSWORD:?" in text
    assert "POSTGRES_PASSWORD:-" not in text
    assert "POSTGRES_PASSWORD=" in (ROOT / ".env.example").read_text(encoding="utf-8")
