"""Discord's errors as Herald's: retryable, rate-limited or permanent delivery errors, here and nowhere else."""

from __future__ import annotations

from typing import Any

import aiohttp
import discord

from adapters.discord.budgets import OPEN_DM
from adapters.retry_after import retry_after
from bot.domain.errors import PermanentDeliveryError, RateLimited, RetryableDeliveryError, Unreachable

CANNOT_DM = 50007  # "Cannot send messages to this user"
DMS_TOO_FAST = 40003  # "You are opening direct messages too fast": Discord's anti-spam, with no Retry-After
_DMS_TOO_FAST_WAIT = 60.0  # seconds before opening DMs again after that, and the DM pace halves meanwhile

# What a call through discord.py fails with: Discord's answers, and a connection's.
FAILURES = (discord.DiscordException, aiohttp.ClientError, TimeoutError, OSError)


def delivery_error(error: Exception, *, method: str | None = None) -> Exception:
    """Discord's error as Herald's: permanent, rate limited, or worth another try.

    A rate limit applies to ``method``'s budget when named (opening a DM), else to the
    target's: Discord keeps message buckets per channel.
    """
    if isinstance(error, discord.RateLimited):
        return rate_limited(error.retry_after, method)
    if isinstance(error, discord.HTTPException) and error.code == DMS_TOO_FAST:
        return rate_limited(_DMS_TOO_FAST_WAIT, OPEN_DM, "Discord: opening direct messages too fast")
    if isinstance(error, discord.HTTPException) and error.status == 429:
        # discord.py waited out five 429s in a row and gave up; the sixth wait is the engine's.
        return rate_limited(_retry_after(error.response), method)
    if isinstance(error, discord.Forbidden):
        if error.code == CANNOT_DM:
            return Unreachable(
                "Discord: cannot send messages to this user (DMs closed, or no server shared with Herald)"
            )
        return PermanentDeliveryError(f"Discord: no permission ({error.code}: {error.text or 'Forbidden'})")
    if isinstance(error, discord.NotFound):
        return PermanentDeliveryError(f"Discord: not found ({error.code}: {error.text or 'Not Found'})")
    if isinstance(error, discord.HTTPException):
        if error.status >= 500:
            return RetryableDeliveryError(f"Discord: HTTP {error.status}")
        return PermanentDeliveryError(f"Discord: HTTP {error.status} ({error.code}: {error.text})")
    if isinstance(error, (aiohttp.ClientError, TimeoutError, OSError)):
        # The message may or may not have arrived (in doubt); the nonce lets Discord drop a second copy.
        return RetryableDeliveryError(f"Discord did not answer: {type(error).__name__}", uncertain=True)
    return error


def rate_limited(retry_after: float, method: str | None, why: str = "Discord rate limit") -> RateLimited:
    """A rate limit on ``method``'s budget when named, else on the target's."""
    scope = "method" if method is not None else "target"
    return RateLimited(f"{why} (retry after {retry_after:.1f}s)", retry_after=retry_after, scope=scope, method=method)


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    return retry_after(headers.get("Retry-After"), default=1.0)


def is_rate_limit(error: Exception) -> bool:
    """Whether ``error`` is a 429, or Discord's "opening direct messages too fast"."""
    if isinstance(error, discord.RateLimited):
        return True
    return isinstance(error, discord.HTTPException) and (error.status == 429 or error.code == DMS_TOO_FAST)
