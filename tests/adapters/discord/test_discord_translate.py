"""Reading what Discord sends back: modal ids and submitted values, whatever the modal's layout."""

from __future__ import annotations

import pytest

from adapters.discord import translate


def test_a_modal_names_its_kind_and_release() -> None:
    assert translate.parse_modal_id(translate.modal_id("edit", "2.4.1-rc.1")) == ("edit", "2.4.1-rc.1")
    assert translate.parse_modal_id(translate.modal_id("back", "2.4")) == ("back", "2.4")
    assert translate.parse_modal_id("herald:approve:2.4") is None
    assert translate.parse_modal_id("someone-elses-modal") is None


def test_a_version_too_long_for_discord_is_refused() -> None:
    with pytest.raises(ValueError, match="cannot make a Discord edit modal"):
        translate.modal_id("edit", "9" * 83)


@pytest.mark.parametrize(
    "components",
    [
        [{"type": 1, "components": [{"type": 4, "custom_id": translate.EDIT_INPUT, "value": "new text"}]}],
        [{"type": 18, "component": {"type": 4, "custom_id": translate.EDIT_INPUT, "value": "new text"}}],
    ],
    ids=["action row", "label"],
)
def test_the_submitted_text_is_found_in_rows_and_labels(components: list[object]) -> None:
    assert translate.submitted_value(components, translate.EDIT_INPUT) == "new text"
    assert translate.submitted_value(components, "herald:other") is None


def test_people_in_herald_words_are_named_as_discord_names_them() -> None:
    text = "Thanks, discord:200000000000000003: recorded. Sent to discord:channel:1234567 (ref discord:111111:222222)."
    assert translate.mention_people(text) == (
        "Thanks, <@200000000000000003>: recorded. Sent to discord:channel:1234567 (ref discord:111111:222222)."
    )
