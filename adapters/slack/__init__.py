"""Slack: the /release command, the walkthrough in a thread, broadcast and receipts."""
