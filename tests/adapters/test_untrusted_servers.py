"""Every HTTP client Herald sends through refuses, by default, a server whose certificate it does not trust.

The server is a real HTTPS server on 127.0.0.1 whose certificate a throwaway CA signed; no
client is told about that CA, so each must refuse it before a request (and the token or
secret it carries) leaves. SMTP and IMAP have their own tests in ``tests/adapters/email``
(``test_mail_tls.py``, ``test_mail_imap_tls.py``).
"""

from __future__ import annotations

import ssl
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from adapters.discord.runtime import discord_client
from adapters.slack.runtime import slack_gateway
from adapters.tls import certificate_failure
from bot.app.bootstrap import delivery_links
from bot.app.settings import load_settings
from bot.domain.destinations import Kind, Platform
from bot.domain.errors import PermanentDeliveryError, RetryableDeliveryError
from bot.domain.plan import AckPolicy
from bot.service.limits import RateLimiter
from bot.service.ports import Messenger, OutgoingMessage
from storage.memory import MemoryBudgets, MemoryStore
from tests.servers.tls import Certificates, HttpsRecorder, https_recorder

WEBHOOK_SECRET = "webhook-secret-0123456789abcdef"
SLACK_TOKEN = "xoxb-herald-tls-test-token"
DISCORD_TOKEN = "herald.tls-test.discord-token"


@pytest.fixture
async def untrusted(certificates: Certificates) -> AsyncIterator[HttpsRecorder]:
    """An HTTPS server that presents a certificate from a CA nobody trusts."""
    async with https_recorder(certificates.server_context()) as server:
        yield server


def _message(target: str) -> OutgoingMessage:
    return OutgoingMessage(
        delivery_key=f"2.4|oncall|{target}",
        version="2.4",
        product="Acme Cloud",
        group_id="oncall",
        group_name="On call",
        target=target,
        kind=Kind.WEBHOOK,
        text="Acme Cloud 2.4 is live.",
        ack=AckPolicy.NONE,
    )


def _messenger(platform: Platform, **env: str) -> Messenger:
    return delivery_links(load_settings(env, env_file=None))[platform].messenger


def _refused_for_its_certificate(error: BaseException) -> bool:
    failure = certificate_failure(error)
    return failure is not None and failure.verify_message == "unable to get local issuer certificate"


async def test_a_webhook_is_not_posted_to_an_untrusted_server(untrusted: HttpsRecorder) -> None:
    """webhook:https://… with an untrusted certificate: nothing is posted, and the failure is not in doubt."""
    messenger = _messenger(Platform.WEBHOOK, HERALD_WEBHOOK_SECRET=WEBHOOK_SECRET)
    with pytest.raises(RetryableDeliveryError) as refused:
        await messenger.send(_message(f"webhook:{untrusted.url('/hook')}"))
    assert str(refused.value).startswith(
        "webhook: the server was not trusted, so nothing was sent to it: its certificate is not trusted ("
    )
    assert refused.value.uncertain is False
    assert untrusted.arrived == []


async def test_apprise_does_not_notify_an_untrusted_service(untrusted: HttpsRecorder) -> None:
    """apprise:jsons://… with an untrusted certificate: Apprise says no, and the service got nothing."""
    messenger = _messenger(Platform.APPRISE, HERALD_APPRISE="on")
    with pytest.raises(RetryableDeliveryError, match="the service did not accept"):
        await messenger.send(_message(f"apprise:jsons://127.0.0.1:{untrusted.port}/page"))
    assert untrusted.arrived == []


async def test_an_apprise_url_may_not_turn_the_check_off_by_itself(untrusted: HttpsRecorder) -> None:
    """verify=no in an apprise: URL is refused for good, nothing sent, unless the operator allowed it by name."""
    messenger = _messenger(Platform.APPRISE, HERALD_APPRISE="on")
    with pytest.raises(PermanentDeliveryError) as refused:
        await messenger.send(_message(f"apprise:jsons://127.0.0.1:{untrusted.port}/page?verify=no"))
    assert str(refused.value) == (
        "apprise: the URL turns off the service's certificate check (verify=no), "
        "which Herald refuses unless HERALD_APPRISE_INSECURE=on"
    )
    assert untrusted.arrived == []


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")  # urllib3's word on verify=no
async def test_the_operator_can_let_apprise_urls_skip_the_check(untrusted: HttpsRecorder) -> None:
    """HERALD_APPRISE_INSECURE=on: a URL that says verify=no reaches the untrusted service."""
    messenger = _messenger(Platform.APPRISE, HERALD_APPRISE="on", HERALD_APPRISE_INSECURE="on")
    await messenger.send(_message(f"apprise:jsons://127.0.0.1:{untrusted.port}/page?verify=no"))
    assert [request.path for request in untrusted.arrived] == ["/page"]


async def test_slack_web_api_calls_and_answers_do_not_reach_an_untrusted_server(
    untrusted: HttpsRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SLACK_API_URL and a response_url on an untrusted server: the bot token never leaves."""
    # slack_sdk tries a failed connection once more after 0.5 s or more of real time; TLS is what is tested here.
    monkeypatch.setattr("slack_sdk.webhook.async_client.async_default_handlers", list)
    settings = load_settings(
        {
            "SLACK_BOT_TOKEN": SLACK_TOKEN,
            "SLACK_SIGNING_SECRET": "signing-secret-for-tls-tests",
            "SLACK_API_URL": untrusted.url("/api/"),
        },
        env_file=None,
    )
    assert settings.slack is not None
    gateway = slack_gateway(settings.slack, RateLimiter(budgets=MemoryBudgets(MemoryStore())))
    gateway.client.retry_handlers.clear()
    await gateway.open()
    try:
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as called:
            await gateway.call("auth.test")
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as answered:
            await gateway.respond(untrusted.url("/actions/T1/1/abc"), text="Approved.")
    finally:
        await gateway.close()
    assert _refused_for_its_certificate(called.value)
    assert _refused_for_its_certificate(answered.value)
    assert untrusted.arrived == []


@pytest.fixture
def discord_addresses() -> Iterator[None]:
    """discord.py's REST base is process-wide: put discord.com back after the test."""
    import discord

    base = discord.http.Route.BASE
    yield
    discord.http.Route.BASE = base


async def test_discord_does_not_log_in_to_an_untrusted_server(
    untrusted: HttpsRecorder, discord_addresses: None
) -> None:
    """DISCORD_API_URL on an untrusted server: the login fails on the certificate, and the token never leaves."""
    settings = load_settings(
        {"DISCORD_BOT_TOKEN": DISCORD_TOKEN, "DISCORD_API_URL": untrusted.url("/api/v10")}, env_file=None
    )
    assert settings.discord is not None
    client = discord_client(settings.discord)
    try:
        with pytest.raises(aiohttp.ClientConnectorCertificateError) as refused:
            await client.login(DISCORD_TOKEN)
    finally:
        await client.close()
    assert _refused_for_its_certificate(refused.value)
    assert untrusted.arrived == []


async def test_the_recorder_answers_a_client_that_trusts_its_ca(
    untrusted: HttpsRecorder, certificates: Certificates
) -> None:
    """The refusals above are the clients' doing: told about the CA, a plain aiohttp client is answered."""
    trusting: ssl.SSLContext = certificates.trusting()
    async with aiohttp.ClientSession() as session, session.get(untrusted.url("/ping"), ssl=trusting) as response:
        assert response.status == 200
    assert [request.path for request in untrusted.arrived] == ["/ping"]
