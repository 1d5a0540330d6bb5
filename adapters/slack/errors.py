"""Slack's errors as Herald's: retryable, rate-limited or permanent delivery errors, here and nowhere else."""

from __future__ import annotations

from slack_sdk.errors import SlackApiError

from adapters.retry_after import retry_after as parse_retry_after
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError, Unreachable

# Errors that no retry will fix (https://api.slack.com/methods/chat.postMessage and friends).
# The person cannot be messaged at all: never attempted rather than failed (``/release resend VERSION missed``).
UNREACHABLE = {
    "user_not_found": "no such user",
    "user_disabled": "a deactivated account",
    "cannot_dm_bot": "a bot",
    "messages_tab_disabled": "they turned off messages from apps",
}

PERMANENT = {
    # chat.update (https://docs.slack.dev/reference/methods/chat.update): the copy is gone, or may no longer be
    # edited; a correction or retraction of it can never land
    "message_not_found",
    "cant_update_message",
    "edit_window_closed",
    "channel_not_found",
    "is_archived",
    "not_in_channel",
    "account_inactive",
    "user_not_found",
    "users_not_found",
    "user_disabled",
    "cannot_dm_bot",
    "no_such_subteam",
    "msg_too_long",
    "invalid_blocks",
    "restricted_action",
    "not_authed",
    "invalid_auth",
    "missing_scope",
    "channel_is_archived",
}


def delivery_error(error: SlackApiError, method: str | None = None) -> Exception:
    """Slack's error as Herald's: permanent, rate limited, or worth another try."""
    response = error.response
    code = str(response.get("error", "unknown_error")) if response is not None else "unknown_error"
    status = getattr(response, "status_code", 0)
    if status == 429 or code == "ratelimited":
        headers = getattr(response, "headers", {}) or {}
        retry_after = parse_retry_after(headers.get("Retry-After", headers.get("retry-after")), default=1.0)
        return RateLimited(
            f"Slack rate limit ({code})",
            retry_after=retry_after,
            scope="method" if method else "ceiling",
            method=method,
        )
    if code in UNREACHABLE:
        return Unreachable(f"Slack: {code} ({UNREACHABLE[code]})")
    if code in PERMANENT:
        return PermanentDeliveryError(f"Slack: {code}")
    return RetryableDeliveryError(f"Slack: {code}")
