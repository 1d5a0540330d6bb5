"""``auth.test``, the ``users.*`` methods and ``usergroups.users.list``: who is in the workspace."""

from __future__ import annotations

from tests.fakes.slack._constants import BOT_ID, BOT_USER_ID, TEAM_DOMAIN, TEAM_ID, Json
from tests.fakes.slack._model import MethodError
from tests.fakes.slack._payloads import paginate
from tests.fakes.slack._state import State


class UserMethods(State):
    """The bot's identity, people and user groups."""

    def _auth_test(self, params: Json) -> Json:
        return {
            "url": f"https://{TEAM_DOMAIN}.slack.com/",
            "team": "Herald Test",
            "user": "herald",
            "team_id": TEAM_ID,
            "user_id": BOT_USER_ID,
            "bot_id": BOT_ID,
            "is_enterprise_install": False,
        }

    def _users_lookup_by_email(self, params: Json) -> Json:
        email = str(params.get("email") or "").lower()
        for user in self._users.values():
            # Slack answers users_not_found for a deactivated account, not the user with deleted=true.
            if user.email is not None and user.email.lower() == email and not user.deleted:
                return {"user": user.to_slack()}
        raise MethodError("users_not_found")

    def _users_info(self, params: Json) -> Json:
        user = self._users.get(str(params.get("user") or ""))
        if user is None:
            raise MethodError("user_not_found")
        return {"user": user.to_slack()}

    def _users_list(self, params: Json) -> Json:
        page, cursor = paginate(list(self._users.values()), params)
        return {"members": [user.to_slack() for user in page], "response_metadata": {"next_cursor": cursor}}

    def _usergroups_users_list(self, params: Json) -> Json:
        users = self._usergroups.get(str(params.get("usergroup") or ""))
        if users is None:
            raise MethodError("no_such_subteam")
        return {"users": list(users)}
