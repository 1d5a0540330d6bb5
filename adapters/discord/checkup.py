"""``herald doctor`` for Discord: the bot token works, and the app may use the intents Herald needs."""

from __future__ import annotations

import aiohttp

from adapters.checkup import Finding, failed, ok, warning
from adapters.discord.config import DiscordSettings

_MEMBERS = (1 << 14) | (1 << 15)  # GATEWAY_GUILD_MEMBERS, GATEWAY_GUILD_MEMBERS_LIMITED (application flags)
_PORTAL = "the Developer Portal, Bot page: Privileged Gateway Intents, Server Members Intent"


async def discord_findings(settings: DiscordSettings, *, needs_members: bool) -> list[Finding]:
    """GET /users/@me with the bot token; the application's flags for the Server Members intent."""
    headers = {"Authorization": f"Bot {settings.bot_token.reveal()}", "User-Agent": "Herald (doctor)"}
    base = settings.api_url.rstrip("/")
    try:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10), headers=headers) as http:
            async with http.get(f"{base}/users/@me") as response:
                if response.status == 401:
                    return [
                        failed(
                            "discord token",
                            "Discord refused DISCORD_BOT_TOKEN (401)",
                            "copy the bot's token from the Developer Portal, Bot page, into DISCORD_BOT_TOKEN",
                        )
                    ]
                response.raise_for_status()
                me = await response.json()
            async with http.get(f"{base}/applications/@me") as response:
                flags = int((await response.json()).get("flags", 0)) if response.status == 200 else None
    except (aiohttp.ClientError, TimeoutError) as error:
        return [failed("discord token", f"Discord could not be reached: {type(error).__name__}", "check the network")]
    found = [ok("discord token", f"works: the bot {me.get('username', '?')}")]
    wanted = needs_members or settings.members_intent
    if not wanted:
        found.append(ok("discord intents", "no privileged intent needed (no discord:role: destinations)"))
    elif flags is None:
        found.append(warning("discord intents", "Discord did not say which intents the app may use", _PORTAL))
    elif flags & _MEMBERS:
        found.append(ok("discord intents", "the Server Members intent is on (discord:role: destinations expand)"))
    else:
        found.append(
            failed(
                "discord intents", "discord:role: destinations need the Server Members intent, which is off", _PORTAL
            )
        )
    return found
