"""The relay's pace: HERALD_SMTP_RATE a second, SMTP_MAX_PER_MINUTE a minute, the stricter of the two that are set."""

from __future__ import annotations

import pytest

from adapters.email.config import EmailSettings
from adapters.email.gateway import THROTTLED_FOR, mail_limits
from bot.app.settings import load_settings
from bot.domain.budgets import Rate
from bot.domain.delivery import DeliveryStatus
from bot.domain.errors import ConfigError
from bot.service.clock import FixedClock
from bot.service.limits import RateLimiter
from storage.memory import MemoryBudgets, MemoryStore
from tests.adapters.email.conftest import mail_world
from tests.fakes import VirtualTime
from tests.servers.smtp import SmtpServer, smtp_server

SMTP = {"SMTP_URL": "smtp://relay.internal:25", "HERALD_MAIL_FROM": "h@example.com"}
CROWD = """
product = "Acme Cloud"
[access]
announcers = ["shell:deployer"]
[[group]]
id = "customers"
to = [{people}]
message = "Acme Cloud {{{{ version }}}} is live."
"""


def _email(**env: str) -> EmailSettings:
    settings = load_settings({**SMTP, **env}, env_file=None)
    assert settings.email is not None
    return settings.email


def _crowd(count: int) -> str:
    return CROWD.format(people=", ".join(f'"email:p{i}@example.com"' for i in range(count)))


@pytest.mark.parametrize("name", ["SMTP_MAX_PER_MINUTE", "HERALD_SMTP_MAX_PER_MINUTE"])
def test_a_per_minute_limit_alone_is_the_relays_pace(name: str) -> None:
    """840 a minute (a default Amazon SES account) is 14 a second, with a second's worth of burst."""
    email = _email(**{name: "840"})
    assert email.pace == 14.0
    assert mail_limits(email).ceiling == Rate(14.0, burst=14.0)


def test_without_either_setting_the_pace_is_five_a_second() -> None:
    """Neither set: HERALD_SMTP_RATE's default, 5 a second."""
    assert _email().pace == 5.0


@pytest.mark.parametrize(
    ("rate", "per_minute", "pace"),
    [("5", "840", 5.0), ("20", "840", 14.0), ("0.5", "60", 0.5), ("2", "60", 1.0)],
)
def test_when_both_are_set_the_stricter_wins(rate: str, per_minute: str, pace: float) -> None:
    """HERALD_SMTP_RATE and SMTP_MAX_PER_MINUTE together: whichever allows fewer messages a second."""
    assert _email(HERALD_SMTP_RATE=rate, SMTP_MAX_PER_MINUTE=per_minute).pace == pace


def test_unlimited_sets_no_pace_of_its_own_but_a_rate_set_beside_it_holds() -> None:
    """unlimited: no pace of Herald's (a ceiling stays, for the relay's 421 to block); with HERALD_SMTP_RATE, that."""
    unlimited = _email(SMTP_MAX_PER_MINUTE="unlimited")
    assert unlimited.pace is None
    ceiling = mail_limits(unlimited).ceiling
    assert ceiling is not None
    assert ceiling.per_second == 10_000
    assert _email(SMTP_MAX_PER_MINUTE="Unlimited", HERALD_SMTP_RATE="50").pace == 50.0


def test_both_names_may_be_set_when_they_agree() -> None:
    """SMTP_MAX_PER_MINUTE and HERALD_SMTP_MAX_PER_MINUTE are one setting: the same value twice is fine."""
    assert _email(SMTP_MAX_PER_MINUTE="840", HERALD_SMTP_MAX_PER_MINUTE="840").pace == 14.0


def test_both_names_set_to_different_values_is_one_sentence() -> None:
    """Two different values for the one setting are refused, naming both variables."""
    with pytest.raises(ConfigError) as caught:
        _email(SMTP_MAX_PER_MINUTE="840", HERALD_SMTP_MAX_PER_MINUTE="6000")
    assert (
        "SMTP_MAX_PER_MINUTE and HERALD_SMTP_MAX_PER_MINUTE are the same setting but are set to different values "
        "('840' and '6000'); set one of them"
    ) in str(caught.value)


@pytest.mark.parametrize("value", ["0", "-840", "840.0", "+840", "fast", "600001", "1_000"])
@pytest.mark.parametrize("name", ["SMTP_MAX_PER_MINUTE", "HERALD_SMTP_MAX_PER_MINUTE"])
def test_a_wrong_per_minute_limit_is_named_in_a_sentence(name: str, value: str) -> None:
    """Anything but a whole number from 1 to 600,000 or unlimited is refused in Herald's words."""
    with pytest.raises(ConfigError) as caught:
        _email(**{name: value})
    message = str(caught.value)
    assert (
        "SMTP_MAX_PER_MINUTE (or HERALD_SMTP_MAX_PER_MINUTE) must be a whole number of messages a minute "
        f"from 1 to 600,000, such as 840, or unlimited (got {value!r})"
    ) in message
    assert "Input should" not in message


def test_the_email_section_reads_both_names() -> None:
    """Both names reach the e-mail section (and nothing else's)."""
    assert {"SMTP_MAX_PER_MINUTE", "HERALD_SMTP_MAX_PER_MINUTE"} <= EmailSettings.variables()


async def test_no_minute_carries_more_than_the_per_minute_limit_and_its_burst() -> None:
    """SMTP_MAX_PER_MINUTE=30 through the shared budget: 75 mails take over two (virtual) minutes, no 60 s holds 32."""
    clock = FixedClock()
    virtual = VirtualTime(clock)
    limiter = RateLimiter(timer=virtual, budgets=MemoryBudgets(MemoryStore()), wall_clock=clock.now)
    limits = mail_limits(_email(SMTP_MAX_PER_MINUTE="30"))
    seconds: list[float] = []
    for n in range(75):
        await limiter.acquire_send(limits, f"email:p{n}@example.com")
        seconds.append(virtual.monotonic())
    seconds = [s - seconds[0] for s in seconds]

    assert seconds[-1] >= 74 * 2 - 1  # one every two seconds after the first
    busiest = max(sum(1 for s in seconds if start <= s < start + 60) for start in seconds)
    assert busiest <= 31


async def test_mail_goes_out_at_the_per_minute_pace_through_the_engine(smtp: SmtpServer) -> None:
    """SMTP_MAX_PER_MINUTE=60: twelve mailboxes, one a second after the first, take at least ten (virtual) seconds."""
    world = mail_world(smtp, _crowd(12), SMTP_MAX_PER_MINUTE="60")
    await world.send()
    assert sorted(r.rcpt_tos[0] for r in smtp.received) == sorted(f"p{i}@example.com" for i in range(12))
    assert world.virtual.slept >= 10.0


async def test_an_unlimited_relay_that_says_421_still_holds_every_message_back() -> None:
    """unlimited is no pace of Herald's own, but the relay's 421 blocks its whole budget all the same."""
    async with smtp_server() as smtp:
        smtp.handler.refuse_once["p1@example.com"] = "421 4.7.0 Too many messages, slow down"
        world = mail_world(smtp, _crowd(3), SMTP_MAX_PER_MINUTE="unlimited", HERALD_SMTP_CONNECTIONS="1")
        await world.send()
        held = world.store.deliveries["2.4|customers|email:p1@example.com"]
        assert (held.status, held.attempts) == (DeliveryStatus.PENDING, 0)
        blocked = await MemoryBudgets(world.store).blocked(f"email:{smtp.host}|ceiling", now=world.clock.now())
        assert THROTTLED_FOR - 1 <= blocked <= THROTTLED_FOR
