"""The server's caps, channel names, permissions, the role hierarchy, threads and closed DMs."""

from __future__ import annotations

from bot.sandbox import permissions as perms
from tests.sandbox.conftest import error_at


async def test_text_channel_names_are_lower_case_with_dashes(sandbox, raw):
    status, channel, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "Hack News", "type": 0})
    assert status == 201 and channel["name"] == "hack-news"
    _, category, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "Team Spaces", "type": 4})
    assert category["name"] == "Team Spaces"  # categories keep their case


async def test_500_channels_a_server_and_threads_do_not_count(sandbox, raw):
    sandbox.state.fill(channels=500 - len(sandbox.state.guild_channels()))
    status, body, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "one-more"})
    assert (status, body["code"]) == (400, 30013)
    assert sandbox.state.refusals()[-1].route == "POST /guilds/{guild}/channels"
    status, thread, _ = await raw("POST", f"/channels/{raw.channel()}/threads", {"name": "Team 501", "type": 12})
    assert status == 201 and thread["type"] == 12 and len(sandbox.state.guild_channels()) == 500


async def test_50_channels_a_category(sandbox, raw):
    _, category, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "Teams", "type": 4})
    for n in range(49):
        sandbox.state.add_channel(f"t{n}", parent_id=int(category["id"]))
    status, _, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "t49", "parent_id": category["id"]})
    assert status == 201
    status, body, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "t50", "parent_id": category["id"]})
    assert status == 400 and error_at(body, "parent_id")["code"] == "CHANNEL_PARENT_MAX_CHANNELS"


async def test_250_roles_a_server(sandbox, raw):
    sandbox.state.fill(roles=250 - len(sandbox.state.roles))
    status, body, _ = await raw("POST", f"/guilds/{raw.guild}/roles", {"name": "Team 251"})
    assert (status, body["code"]) == (400, 30005)


def take_away(sandbox, bit: int) -> None:
    """The permission no longer comes from the bot's role nor from @everyone."""
    for role_id in (sandbox.state.bot_role_id, sandbox.state.guild_id):
        role = sandbox.state.roles[role_id]
        role["permissions"] = str(int(role["permissions"]) & ~bit)


async def test_a_missing_permission_is_50013_and_the_reason_names_it(sandbox, raw):
    take_away(sandbox, perms.MANAGE_ROLES)
    status, body, _ = await raw("POST", f"/guilds/{raw.guild}/roles", {"name": "Team Ants"})
    assert (status, body["code"], body["message"]) == (403, 50013, "Missing Permissions")
    assert "Manage Roles" in sandbox.state.refusals()[-1].reason
    take_away(sandbox, perms.MANAGE_CHANNELS)
    status, body, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "team-ants"})
    assert (status, body["code"]) == (403, 50013) and "Manage Channels" in sandbox.state.refusals()[-1].reason


async def test_sending_needs_view_and_send_in_the_channel(sandbox, raw):
    channel = sandbox.state.channels[raw.channel("announcements")]
    channel["permission_overwrites"] = [{"id": str(sandbox.state.guild_id), "type": 0, "allow": "0",
                                         "deny": str(perms.SEND_MESSAGES)}]
    status, body, _ = await raw.send({"content": "hi"}, "announcements")
    assert (status, body["code"]) == (403, 50013)
    assert "Send Messages in #announcements" in sandbox.state.refusals()[-1].reason


async def test_the_role_hierarchy(sandbox, raw):
    above = sandbox.state.add_role("Staff")
    above["position"] = sandbox.state.top_position(sandbox.state.bot.id) + 1  # dragged above the bot
    alice = sandbox.user("alice")
    status, body, _ = await raw("PUT", f"/guilds/{raw.guild}/members/{alice.user.id}/roles/{above['id']}")
    assert (status, body["code"]) == (403, 50013) and "hierarchy" in sandbox.state.refusals()[-1].reason
    status, body, _ = await raw("DELETE", f"/guilds/{raw.guild}/roles/{above['id']}")
    assert (status, body["code"]) == (403, 50013)
    _, below, _ = await raw("POST", f"/guilds/{raw.guild}/roles", {"name": "Team Ants"})
    status, _, _ = await raw("PUT", f"/guilds/{raw.guild}/members/{alice.user.id}/roles/{below['id']}")
    assert status == 204 and int(below["id"]) in alice.roles


async def test_an_overwrite_or_a_role_grants_only_what_the_bot_has(sandbox, raw):
    status, body, _ = await raw("POST", f"/guilds/{raw.guild}/roles", {"name": "Boss", "permissions": str(perms.ADMINISTRATOR)})
    assert (status, body["code"]) == (403, 50013) and "Administrator" in sandbox.state.refusals()[-1].reason
    overwrite = {"id": str(sandbox.state.guild_id), "type": 0, "allow": str(perms.MANAGE_ROLES), "deny": "0"}
    status, body, _ = await raw("POST", f"/guilds/{raw.guild}/channels", {"name": "x", "permission_overwrites": [overwrite]})
    assert (status, body["code"]) == (403, 50013)  # guild.mdx:891: Manage Roles in an overwrite needs Administrator


async def test_a_member_with_closed_dms_answers_50007(sandbox, raw):
    alice = sandbox.user("alice")
    alice.dms_open = False
    _, dm, _ = await raw("POST", "/users/@me/channels", {"recipient_id": str(alice.user.id)})
    status, body, _ = await raw("POST", f"/channels/{dm['id']}/messages", {"content": "You are matched"})
    assert (status, body["code"]) == (403, 50007) and "alice" in sandbox.state.refusals()[-1].reason


async def test_private_threads_and_their_members(sandbox, raw):
    alice = sandbox.user("alice")
    status, thread, _ = await raw("POST", f"/channels/{raw.channel()}/threads", {"name": "Team Ants", "type": 12,
                                                                                "auto_archive_duration": 10080})
    assert status == 201
    status, _, _ = await raw("PUT", f"/channels/{thread['id']}/thread-members/{alice.user.id}")
    assert status == 204 and alice.user.id in sandbox.state.thread_members[int(thread["id"])]
    status, _, _ = await raw("POST", f"/channels/{thread['id']}/messages", {"content": "Welcome"})
    assert status == 200
    status, body, _ = await raw("POST", f"/channels/{raw.channel()}/threads", {"name": "t" * 101, "type": 12})
    assert status == 400 and error_at(body, "name")["code"] == "BASE_TYPE_BAD_LENGTH"
    take_away(sandbox, perms.CREATE_PRIVATE_THREADS)
    status, body, _ = await raw("POST", f"/channels/{raw.channel()}/threads", {"name": "Team Bees", "type": 12})
    assert (status, body["code"]) == (403, 50013) and "Create Private Threads" in sandbox.state.refusals()[-1].reason


async def test_requests_without_the_token_are_401(sandbox, raw):
    status, _, _ = await raw("POST", f"/channels/{raw.channel()}/messages", {"content": "hi"}, auth=False)
    assert status == 401 and sandbox.state.refusals()[-1].status == 401
