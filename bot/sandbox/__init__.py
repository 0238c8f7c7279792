"""A local Discord-API double for end-to-end tests and `hackbot rehearse`: the real, unmodified
discord.py client connects to it once HACKBOT_DISCORD_API points there (see bot.app.point_discord_at)."""

from bot.sandbox.client import BotProcess, Sandbox, SandboxError, until
from bot.sandbox.server import SandboxServer
from bot.sandbox.state import SandboxState

__all__ = ["BotProcess", "Sandbox", "SandboxError", "SandboxServer", "SandboxState", "until"]
