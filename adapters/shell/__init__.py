"""The local shell workspace: the whole loop in a terminal, with no credentials."""
