"""Header injection is a validation error, never a header: subjects, addresses and the sender."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from email.headerregistry import Address

import pytest

from adapters.email.message import build_message
from bot.app.settings import load_settings
from bot.domain.errors import ConfigError, PermanentDeliveryError, PlanError
from bot.domain.plan import Sender
from bot.service.planfile import parse_plan
from tests.adapters.email.conftest import PLAN, mail_world
from tests.adapters.email.test_mail_tls import MESSAGE
from tests.servers.smtp import SmtpServer


def _plan(**group: str) -> str:
    fields = "\n".join(f"{k} = {v}" for k, v in group.items())
    return f"""
product = "Acme Cloud"
[access]
announcers = ["shell:deployer"]
[[group]]
id = "customers"
message = "Acme Cloud {{{{ version }}}} is live."
{fields}
"""


def test_a_subject_with_a_line_break_is_a_plan_error() -> None:
    """subject = "…\\r\\nBcc: …" is refused by the plan check, naming the group and field."""
    text = _plan(to='["email:ada@example.com"]', subject='"Hi\\r\\nBcc: all@example.com"')
    with pytest.raises(PlanError) as error:
        parse_plan(text)
    assert "group 'customers': subject: must be one line" in str(error.value)


def test_an_address_with_a_line_break_is_a_plan_error() -> None:
    """An email: destination carrying a CR/LF and a header is not a valid destination."""
    text = _plan(to='["email:ada@example.com\\r\\nBcc: all@example.com"]')
    with pytest.raises(PlanError) as error:
        parse_plan(text)
    assert "is not a valid destination; expected email:someone@example.com" in str(error.value)


def test_a_group_sender_with_a_line_break_is_refused_by_the_plan_and_by_the_mail_builder() -> None:
    """A ``from`` with a line break is a plan error; one that reached the adapter would fail its delivery."""
    with pytest.raises(PlanError) as error:
        parse_plan(_plan(to='["email:ada@example.com"]', **{"from": '"T <t@example.com>\\r\\nBcc: all@example.com"'}))
    assert "group 'customers': from: must be one line" in str(error.value)

    forged = replace(MESSAGE, sender=Sender(email_from="T <t@example.com>\r\nBcc: all@example.com"))
    with pytest.raises(PermanentDeliveryError, match="line break"):
        build_message(
            forged,
            sender=Address("Herald", "herald", "acme.test"),
            now=datetime(2026, 1, 1, tzinfo=UTC),
            envid="e" * 32,
        )


def test_a_subject_template_that_does_not_parse_is_a_plan_error() -> None:
    """A subject is a template, checked like a message."""
    with pytest.raises(PlanError) as error:
        parse_plan(_plan(to='["email:ada@example.com"]', subject='"{{ product"'))
    assert "group 'customers': subject: template does not parse" in str(error.value)


async def test_a_subject_whose_value_holds_a_line_break_blocks_the_communique(smtp: SmtpServer) -> None:
    """A [vars] value with a line break rendered into the subject fails the blocking subject check; nothing is sent."""
    plan = PLAN.replace("[access]", '[vars]\nsneaky = "x\\r\\nBcc: all@example.com"\n\n[access]').replace(
        'subject = "{{ product }} {{ version }}: what changes for you"', 'subject = "News {{ sneaky }}"'
    )
    world = mail_world(smtp, plan)
    reply = await world.say("announce 2.4")
    view = reply.views[-1]
    checks = {c.code: c for c in view.communiques[0].checks}  # type: ignore[union-attr]
    assert not checks["subject"].ok
    assert "holds a line break" in checks["subject"].message
    await world.say("confirm 2.4")
    refused = await world.say("approve 2.4 customers")
    assert refused.failed
    assert smtp.received == []


async def test_the_default_subject_names_product_and_version(smtp: SmtpServer) -> None:
    """Without a subject field the mail says "<product> <version> is live"."""
    world = mail_world(smtp, PLAN.replace('subject = "{{ product }} {{ version }}: what changes for you"\n', ""))
    await world.send()
    assert {r.message["Subject"] for r in smtp.received} == {"Acme Cloud 2.4 is live"}


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mailer:s3cret@mail.example.com:587", ("mail.example.com", 587, "starttls", "mailer")),
        ("smtps://mailer:s3cret@mail.example.com", ("mail.example.com", 465, "tls", "mailer")),
        ("smtp://relay.internal:25", ("relay.internal", 25, "optional", None)),
        ("smtp://relay.internal", ("relay.internal", 25, "optional", None)),
    ],
)
def test_smtp_url_forms(url: str, expected: tuple[object, ...]) -> None:
    """smtp:// with a login uses STARTTLS, smtps:// implicit TLS, smtp:// without one TLS when offered."""
    settings = load_settings({"SMTP_URL": url, "HERALD_MAIL_FROM": "herald@example.com"}, env_file=None)
    assert settings.email is not None
    email = settings.email
    assert (email.host, email.port, email.tls, email.username) == expected
    assert email.per_second == 5.0


def test_the_smtp_password_never_shows() -> None:
    """The password is usable but absent from every repr."""
    settings = load_settings(
        {"SMTP_URL": "smtp://mailer:p%40ss-w0rd@mail.example.com:587", "HERALD_MAIL_FROM": "herald@example.com"},
        env_file=None,
    )
    assert settings.email is not None
    assert settings.email.password is not None
    assert settings.email.password.reveal() == "p@ss-w0rd"
    assert "w0rd" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "sentence"),
    [
        ({"SMTP_URL": "http://mail.example.com"}, "SMTP_URL must look like smtp://user:password@host:587"),
        ({"SMTP_URL": "smtp://mail.example.com"}, "HERALD_MAIL_FROM is required with SMTP_URL"),
        (
            {"SMTP_URL": "smtp://mail.example.com", "HERALD_MAIL_FROM": "Herald\r\nBcc: x@y.z <h@example.com>"},
            "HERALD_MAIL_FROM must be one address",
        ),
        (
            {"SMTP_URL": "smtp://mail.example.com", "HERALD_MAIL_FROM": "h@example.com", "HERALD_SMTP_RATE": "fast"},
            "HERALD_SMTP_RATE must be a positive number",
        ),
        ({"HERALD_PUBLIC_URL": "https://herald.example.com"}, "HERALD_LINK_SECRET must be set with HERALD_PUBLIC_URL"),
        (
            {"HERALD_PUBLIC_URL": "herald.example.com", "HERALD_LINK_SECRET": "s" * 40},
            "HERALD_PUBLIC_URL must be an http(s) URL",
        ),
    ],
)
def test_bad_mail_settings_are_one_sentence_each(env: dict[str, str], sentence: str) -> None:
    """Each wrong mail setting is named in a sentence, and the password is not repeated."""
    with pytest.raises(ConfigError) as error:
        load_settings(env, env_file=None)
    assert sentence in str(error.value)
