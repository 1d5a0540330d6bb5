"""GitHub's and GitLab's release APIs, read for a release's notes (``[notes] source = "github:…"``, ``"gitlab:…"``).

- ``config``: ``GITHUB_API_URL``, ``GITHUB_TOKEN``, ``GITLAB_URL``, ``GITLAB_TOKEN``.
- ``releases``: ``ForgeClient``, the ``ForgeReleases`` port over both, each answer put into one sentence.
"""
