"""The release desk: every command a person can give, handled the same way on every platform."""

from bot.service.desk.core import DeskCore
from bot.service.desk.desk import ReleaseDesk

__all__ = ["DeskCore", "ReleaseDesk"]
