# Herald's container image: `make image`, or `docker compose up --build` (see README, "Deploy").
#
# The first stage builds Herald's wheel; the second installs it with its runtime
# dependencies only (no test or lint tools) and runs it as an unprivileged user.
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS wheel
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot/ bot/
COPY adapters/ adapters/
COPY storage/ storage/
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_ROOT_USER_ACTION=ignore \
    # The operations endpoint listens on every interface inside the container: the
    # orchestrator and Prometheus reach it there, and compose publishes it to loopback only.
    HERALD_OPS_HOST=0.0.0.0 \
    HERALD_OPS_PORT=9090 \
    HERALD_LOG_FORMAT=json \
    HERALD_PLAN=/plans/release-comms.toml
COPY --from=wheel /wheels /wheels
# The versions CI tested (requirements.lock) constrain every dependency the wheel pulls in.
COPY requirements.lock /tmp/requirements.lock
RUN pip install --no-cache-dir --constraint /tmp/requirements.lock /wheels/*.whl && rm -rf /wheels /tmp/requirements.lock \
    && groupadd --gid 10001 herald \
    && useradd --uid 10001 --gid 10001 --create-home --home-dir /home/herald --shell /usr/sbin/nologin herald
USER 10001:10001
WORKDIR /home/herald
EXPOSE 9090 3000
# The slim image has no curl: the probe is Python's urllib, asking /healthz on HERALD_OPS_PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "adapters.ops.probe", "/healthz"]
ENTRYPOINT ["herald"]
CMD ["run"]
