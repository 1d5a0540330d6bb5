"""Herald's HTTP server: acknowledgement links, and Slack's endpoint when Slack runs in HTTP mode."""
