"""Discord's limits, each with its source: the bot cuts and pages its texts by them, lays out
team spaces by them, and the local double (bot/sandbox) refuses whatever exceeds them.

Sources, read from the repositories themselves:
  D  discord/discord-api-docs @ c98d64bc (2026-08-06), `developers/...` files, `:N` a line
  S  discord/discord-api-spec @ 74fda0fa (2026-07-18), specs/openapi.json, `L N` a line
  I  GitHub issue threads: what the live API was seen to answer (used only where D and S are silent)
Where D and S disagree, the number is the one a bot actually meets, and the comment says why.
"""

from __future__ import annotations

import re
from datetime import timedelta

# --- messages ----------------------------------------------------------------------------------
# D resources/message.mdx:1080 says 2000; S MessageCreateRequest.content (L32579) says 4000, but
# bots under 4000 are still refused "Must be 2000 or fewer in length" (I discord-api-docs#2941, a
# maintainer: a bug left in place during a Nitro experiment); interaction and webhook bodies are
# 2000 in S too (IncomingWebhookInteractionRequest.content, L29526). A bot meets 2000.
CONTENT = 2000
NONCE = 25  # D message.mdx Create Message: nonce, "up to 25 characters"
EMBEDS = 10  # D message.mdx:1083; S MessageCreateRequest.embeds maxItems 10 (L32586)
EMBED_TITLE = 256  # D message.mdx:611; S RichEmbed.title
EMBED_DESCRIPTION = 4096  # D message.mdx:612; S RichEmbed.description (L36438)
EMBED_FIELDS = 25  # D message.mdx:613; S RichEmbed.fields maxItems 25
FIELD_NAME = 256  # D message.mdx:614; S RichEmbedField.name
FIELD_VALUE = 1024  # D message.mdx:615; S RichEmbedField.value
FOOTER_TEXT = 2048  # D message.mdx:616; S RichEmbedFooter.text
AUTHOR_NAME = 256  # D message.mdx:617; S RichEmbedAuthor.name
EMBED_TOTAL = 6000  # D message.mdx:619: title+description+field names/values+footer+author, all embeds
MENTION_IDS = 100  # D message.mdx:753-754: allowed_mentions.roles / .users "max 100"; S maxItems 100 (L32202)
# D components/reference.mdx:2542 "Legacy messages allow up to 5 action rows as top-level
# components"; S MessageCreateRequest.components maxItems 40 (L32616) counts Components V2 as
# well. Hackbot sends legacy messages (no IS_COMPONENTS_V2 flag): 5.
ACTION_ROWS = 5
ROW_BUTTONS = 5  # D reference.mdx:108 "Up to 5 interactive button components or a single select"
BUTTON_LABEL = 80  # D reference.mdx:175; S ButtonComponentForMessageRequest.label
CUSTOM_ID = 100  # D reference.mdx:81,177 "1 to 100 characters"; S ...custom_id 1-100
BUTTON_URL = 512  # D reference.mdx:179
SELECT_OPTIONS = 25  # D reference.mdx:301; S StringSelectComponentForMessageRequest.options
SELECT_PLACEHOLDER = 150  # D reference.mdx:302
SELECT_OPTION_TEXT = 100  # label, value, description: D reference.mdx:319-321

# --- modals ------------------------------------------------------------------------------------
MODAL_TITLE = 45  # D interactions/receiving-and-responding.mdx:321; S L33939
# D receiving-and-responding.mdx:322 "Between 1 and 5 (inclusive) components"; S says 40 (L33944).
# Discord's client shows five rows of a classic modal: 5.
MODAL_ROWS = 5
TEXT_INPUT_LABEL = 45  # S TextInputComponentForModalRequest.label 1-45 (L39480); D Label.label 45 (:2017)
TEXT_INPUT_VALUE = 4000  # D reference.mdx:506 (value, prefill); S L39488; also min/max_length bound
TEXT_INPUT_PLACEHOLDER = 100  # D reference.mdx:507; S L39495

# --- autocomplete and commands --------------------------------------------------------------------
CHOICES = 25  # D receiving-and-responding.mdx:313; S ...AutocompleteCallbackStringData.choices (L30086)
CHOICE_NAME = 100  # D interactions/application-commands.mdx:122; S ApplicationCommandOptionStringChoice.name
# D application-commands.mdx:124 "up to 100 characters if string"; S allows 6000 (L18684). The
# docs' 100 is the stricter, and what the double holds a bot to.
CHOICE_VALUE = 100
COMMAND_NAME = re.compile(r"^[-_'\w]{1,32}$")  # D application-commands.mdx:18 (\p{L}\p{N}, lower case)
COMMAND_DESCRIPTION = 100  # D application-commands.mdx:31; S L17917
COMMAND_OPTIONS = 25  # D application-commands.mdx:33,77; S maxItems 25 (L17936, L19424, L19557)
STRING_OPTION_LENGTH = 6000  # D application-commands.mdx:81-82 (min/max_length)
COMMAND_SIZE = 8000  # D application-commands.mdx:450: names, descriptions, values of a command
CHAT_COMMANDS = 100  # D application-commands.mdx:169 per guild; S bulk PUT maxItems 130 = 100+15+15

# --- interactions --------------------------------------------------------------------------------
ACK_DEADLINE = 3.0  # seconds: D receiving-and-responding.mdx:351 "initial response within 3 seconds"
TOKEN_LIFETIME = timedelta(minutes=15)  # D receiving-and-responding.mdx:351 "valid for 15 minutes"

# --- the server --------------------------------------------------------------------------------------
GUILD_CHANNELS = 500  # D topics/opcodes-and-status-codes.mdx:210, error 30013; threads do not count (channel.mdx:253)
CATEGORY_CHANNELS = 50  # D resources/channel.mdx:35,72; refused as 50035 CHANNEL_PARENT_MAX_CHANNELS (I PR #1289)
GUILD_ROLES = 250  # D opcodes-and-status-codes.mdx:205, error 30005
ROLE_NAME = 100  # D resources/guild.mdx:1255; S CreateRoleRequest.name (L23962)
CHANNEL_NAME = 100  # D channel.mdx:23, guild.mdx:906; S CreateGuildChannelRequest.name (L23569)
THREAD_NAME = 100  # D channel.mdx:616; S CreateTextThreadWithoutMessageRequest.name (L24057)
# D channel.mdx:24 "0-1024 characters" for text channels (4096 for forum and media); S says 4096
# for every type (L23582). Team channels are text channels: 1024.
CHANNEL_TOPIC = 1024
THREAD_ARCHIVE_MINUTES = (60, 1440, 4320, 10080)  # D channel.mdx:599

# --- rate limits ---------------------------------------------------------------------------------------
GLOBAL_REQUESTS_PER_SECOND = 50  # D topics/rate-limits.mdx:122; interaction endpoints are exempt (:128)


def channel_name(name: str) -> str:
    """A text channel's name as Discord stores it: lower case, spaces as dashes, runs of dashes as
    one. Not in D or S; observed by client libraries (I discord-api-docs#1646, nextcord PR #957
    "Joey's Cool Channel" -> "joeys-cool-channel", yesbot-ts#971 on repeated dashes)."""
    lowered = re.sub(r"[!\"#$%&'()*+,./:;<=>?@\[\\\]^`{|}~]", "", name.strip().lower())
    return re.sub(r"[\s-]+", "-", lowered).strip("-")[:CHANNEL_NAME]
