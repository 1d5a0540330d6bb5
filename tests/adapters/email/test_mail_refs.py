"""Envelope ids and signed return paths (VERP): what names Herald's mail on the wire."""

from __future__ import annotations

from email.headerregistry import Address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.email.refs import MailRefs, delivered_to

SECRET = b"s" * 32
BOUNCES = Address(username="bounces", domain="lists.acme.test")
KEY = "2.4|customers|email:ada@example.com"


def test_a_keyed_envelope_id_cannot_be_worked_out_without_the_secret() -> None:
    """With a secret the id is an HMAC: another secret, or none, gives another id for the same delivery."""
    keyed = MailRefs(SECRET).envelope_id(KEY)
    assert len(keyed) == 32
    assert set(keyed) <= set("0123456789abcdef")
    assert keyed != MailRefs(b"t" * 32).envelope_id(KEY)
    assert keyed != MailRefs().envelope_id(KEY)
    assert MailRefs(SECRET).envelope_id(KEY) == keyed  # every process with the secret agrees


@given(st.text(min_size=1, max_size=200))
def test_a_return_path_names_its_mail_and_fits_in_a_local_part(key: str) -> None:
    """bounces+<ref>@domain round-trips to the envelope id, in any case, and its local part stays under 64."""
    refs = MailRefs(SECRET, BOUNCES)
    envid = refs.envelope_id(key)
    path = refs.return_path(envid)
    assert path is not None
    local, _, domain = path.partition("@")
    assert (local.startswith("bounces+"), domain, len(local) <= 64) == (True, "lists.acme.test", True)
    for seen in (path, path.upper()):
        found = refs.returned([seen])
        assert found is not None
        assert (found.envid, found.forged) == (envid, False)


def test_an_altered_return_path_is_forged() -> None:
    """One character changed, or a ref signed with another secret, does not verify."""
    refs = MailRefs(SECRET, BOUNCES)
    path = refs.return_path(refs.envelope_id(KEY))
    assert path is not None
    altered = path.replace(path[10], "a" if path[10] != "a" else "b", 1)
    other = MailRefs(b"t" * 32, BOUNCES).return_path(refs.envelope_id(KEY))
    assert other is not None
    for forged in (altered, other, "bounces+whatever@lists.acme.test"):
        found = refs.returned([forged])
        assert found is not None
        assert (found.envid, found.forged) == (None, True)


def test_a_verified_ref_wins_over_a_forged_one_beside_it() -> None:
    """A forged address in Cc cannot hide the real return path in Delivered-To."""
    refs = MailRefs(SECRET, BOUNCES)
    envid = refs.envelope_id(KEY)
    path = refs.return_path(envid)
    assert path is not None
    found = refs.returned(["bounces+forged@lists.acme.test", path])
    assert found is not None
    assert found.envid == envid


def test_addresses_of_other_domains_and_bases_are_not_return_paths() -> None:
    """Only bounces+…@ the bounce domain is looked at: everything else names nothing."""
    refs = MailRefs(SECRET, BOUNCES)
    assert refs.returned(["bounces+x@elsewhere.test", "ada+x@lists.acme.test", "herald@acme.test"]) is None
    assert MailRefs(SECRET).returned(["bounces+x@lists.acme.test"]) is None  # no bounce address: no VERP


def test_a_bounce_address_needs_a_long_secret() -> None:
    """VERP without a secret, or with a short one, is refused at start."""
    with pytest.raises(ValueError, match="needs a secret"):
        MailRefs(None, BOUNCES)
    with pytest.raises(ValueError, match="at least 32 bytes"):
        MailRefs(b"short", BOUNCES)


def test_the_delivered_to_addresses_come_from_every_header_mtas_use() -> None:
    """To, Delivered-To, X-Original-To and Envelope-To are all where a return path may show."""
    headers = [
        ("To", "Herald <herald@acme.test>"),
        ("Delivered-To", "bounces+abc@lists.acme.test"),
        ("X-Original-To", "x@acme.test"),
        ("Envelope-To", "y@acme.test"),
        ("Subject", "z@acme.test"),
    ]
    assert delivered_to(headers) == ["herald@acme.test", "bounces+abc@lists.acme.test", "x@acme.test", "y@acme.test"]
