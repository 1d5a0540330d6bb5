"""Webhooks: communiqués POSTed as signed JSON to a web page or service (the internal release site)."""
