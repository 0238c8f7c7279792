"""A local Discord-API double for end-to-end tests and `hackbot rehearse`, as strict as Discord: the
real, unmodified discord.py client connects to it once HACKBOT_DISCORD_API points there (see
bot.app.point_discord_at), and every request Discord would refuse is refused and recorded.

    server.py        the REST routes of messages, interactions and commands; refusals; rate limits
    guild_routes.py  channels, threads, roles, members, DMs: the server's caps and permissions
    gateway.py       HELLO, IDENTIFY, READY, dispatches, RESUME, INVALID_SESSION
    validate.py      request bodies against Discord's limits (bot/discord_limits.py): 50035
    permissions.py   the permission model and the role hierarchy
    ratelimit.py     per-route buckets, the global 50 a second
    faults.py        errors and delays a test injects on a named route
    state.py         what the double remembers, refusals included
    client.py        the test driver (users invoking, clicking, typing) and the bot process
    rehearse.py, acts/   `hackbot rehearse`
"""

from bot.sandbox.client import BotProcess, Sandbox, SandboxError, until
from bot.sandbox.server import SandboxServer
from bot.sandbox.state import SandboxState

__all__ = ["BotProcess", "Sandbox", "SandboxError", "SandboxServer", "SandboxState", "until"]
