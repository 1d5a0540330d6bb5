"""The fake Slack's own model: users, conversations, queued failures, and the error a method handler raises."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from tests.fakes.slack._constants import BOT_ID, BOT_USER_ID, TEAM_ID, Json


@dataclass(slots=True)
class User:
    id: str
    name: str
    real_name: str
    email: str | None
    deleted: bool
    is_bot: bool

    def to_slack(self) -> Json:
        profile: Json = {"real_name": self.real_name, "display_name": self.name}
        if self.email is not None:
            profile["email"] = self.email
        if self.id == BOT_USER_ID:
            profile["bot_id"] = BOT_ID
        return {
            "id": self.id,
            "team_id": TEAM_ID,
            "name": self.name,
            "deleted": self.deleted,
            "real_name": self.real_name,
            "is_admin": False,
            "is_owner": False,
            "is_bot": self.is_bot,
            "is_app_user": False,
            "profile": profile,
        }


@dataclass(slots=True)
class Conversation:
    id: str
    name: str
    members: list[str]
    is_archived: bool = False
    is_private: bool = False
    is_im: bool = False
    is_mpim: bool = False
    user: str | None = None  # the other person, for a DM

    def to_slack(self) -> Json:
        if self.is_im:
            return {"id": self.id, "created": 1_700_000_000, "is_im": True, "is_org_shared": False, "user": self.user}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": not self.is_mpim,
            "is_group": False,
            "is_im": False,
            "is_mpim": self.is_mpim,
            "is_private": self.is_private or self.is_mpim,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_member": BOT_USER_ID in self.members,
            "created": 1_700_000_000,
            "creator": "U0CREATOR",
            "num_members": len(self.members),
        }


@dataclass(frozen=True, slots=True)
class Failure:
    error: str
    status: int
    retry_after: int | None
    channel: str | None = None
    user: str | None = None

    def matches(self, params: Mapping[str, Any]) -> bool:
        if self.channel is not None and params.get("channel") != self.channel:
            return False
        return self.user is None or self.user in (params.get("user"), params.get("users"))


class MethodError(Exception):
    """Raised inside a method handler; becomes ``{"ok": false, "error": code, **extra}``."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


def kind_of(conversation: Conversation) -> str:
    if conversation.is_im:
        return "im"
    if conversation.is_mpim:
        return "mpim"
    return "private_channel" if conversation.is_private else "public_channel"
