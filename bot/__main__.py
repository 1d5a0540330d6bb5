"""``python -m bot`` runs the ``herald`` command line."""

from __future__ import annotations

import sys

from bot.app.cli import main

if __name__ == "__main__":
    sys.exit(main())
