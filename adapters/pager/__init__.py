"""Pagers and other services through Apprise (``apprise:pagerduty://…``, ``apprise:msteams://…``)."""
