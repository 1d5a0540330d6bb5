"""The fake Slack's rate limits in force: the documented budgets (``limits``) and storms a test starts."""

from __future__ import annotations

from tests.fakes.slack._constants import Json
from tests.fakes.slack._records import Call, Throttle
from tests.fakes.slack._state import State
from tests.fakes.slack.limits import Budget, MethodLimit, Scope


class Metering(State):
    """Each call spends from its method's budget (and a post also from its channel's and the workspace's)."""

    def storm(self, method: str, seconds: float, retry_after: int = 1) -> None:
        """From now, for ``seconds`` on the fake's clock, answer every call of ``method`` 429 (Slack under an incident).

        Each refusal carries ``Retry-After``; a call that comes back before the last one's
        has passed is counted among the early calls.
        """
        self._storms[method] = (self.clock(), self.clock() + seconds, retry_after)

    def _stormy(self, method: str) -> tuple[int, dict[str, str], Json] | None:
        storm = self._storms.get(method)
        at = self.clock()
        if storm is None or not storm[0] <= at < storm[1]:
            return None
        early = any(
            t.method == method and t.bucket == "storm" and at < t.at + t.retry_after for t in self._throttled[-5:]
        )
        throttle = Throttle(method, "storm", at, storm[2])
        self._throttled.append(throttle)
        if early:
            self._early_calls.append(throttle)
        return 429, {"Retry-After": str(storm[2])}, {"ok": False, "error": "ratelimited"}

    def _metered(self, method: str, params: Json) -> tuple[int, dict[str, str], Json] | None:
        """Slack's answer if the rate limits refuse this call; ``None`` to serve it."""
        if not self.enforce_limits:
            return None
        at = self.clock()
        limit = self.rate_limits.get(method)
        if limit is None:
            self._untabled_calls.append(Call(method, dict(params), at, "fatal_error"))
            detail = f"no documented rate limit for {method} in tests/fakes/slack/limits.py"
            return 500, {}, {"ok": False, "error": "fatal_error", "detail": detail}
        refusal = self._meter.take(self._budgets(limit, params), at)
        if refusal is None:
            return None
        throttle = Throttle(method, refusal.bucket, at, refusal.retry_after)
        self._throttled.append(throttle)
        if refusal.early:
            self._early_calls.append(throttle)
        return 429, {"Retry-After": str(refusal.retry_after)}, {"ok": False, "error": "ratelimited"}

    def _budgets(self, limit: MethodLimit, params: Json) -> list[tuple[str, Budget]]:
        if limit.scope is Scope.CHANNEL:
            channel = str(params.get("channel") or "")
            if channel.startswith(("U", "W")) and channel in self._users:
                channel = self.dm_channel(channel)  # a post to a user id goes to, and counts against, the DM
            ceiling = Budget.of(self.workspace_messages_per_minute)
            return [(limit.method, ceiling), (f"{limit.method}:{channel}", limit.budget)]
        return [(limit.method, limit.budget)]
