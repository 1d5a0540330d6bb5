"""``views.open``: a modal opened once per trigger, as Slack returns it."""

from __future__ import annotations

import hashlib

from tests.fakes.slack._constants import APP_ID, BOT_ID, TEAM_ID, Json
from tests.fakes.slack._model import MethodError
from tests.fakes.slack._records import OpenedView
from tests.fakes.slack._state import State


class ViewMethods(State):
    """Modals: a trigger id opens one view; a used or expired one is refused."""

    def _views_open(self, params: Json) -> Json:
        trigger_id = str(params.get("trigger_id") or "")
        view = params.get("view")
        if not trigger_id or not isinstance(view, dict):
            raise MethodError("invalid_arguments")
        if trigger_id in self._expired_triggers:
            raise MethodError("expired_trigger_id")
        if trigger_id in self._used_triggers:
            raise MethodError("exchanged_trigger_id")
        self._used_triggers.add(trigger_id)
        view_id = f"V0HERALD{next(self._views_made):04d}"
        opened: Json = {
            "id": view_id,
            "team_id": TEAM_ID,
            "type": view.get("type", "modal"),
            "blocks": view.get("blocks", []),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": f"1700000000.{hashlib.sha1(view_id.encode()).hexdigest()[:8]}",
            "title": view.get("title"),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": view.get("close"),
            "submit": view.get("submit"),
            "previous_view_id": None,
            "root_view_id": view_id,
            "app_id": APP_ID,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": TEAM_ID,
            "bot_id": BOT_ID,
        }
        self.views.append(OpenedView(trigger_id, opened, self.clock()))
        return {"view": opened}
