"""The double's checks on request bodies: what Discord answers 400 50035 "Invalid Form Body".

Each check adds an error at the path of the field it concerns; `Form.body()` is Discord's
nested shape (discord-api-docs reference.mdx:38-107): array indexes as string keys, each
leaf an `_errors` list of {code, message}. The codes and messages the docs do not spell out
are those observed from the live API (see bot/discord_limits.py): "Must be N or fewer in
length." with BASE_TYPE_MAX_LENGTH, MAX_EMBED_SIZE_EXCEEDED for the 6000 characters.
"""

from __future__ import annotations

import re
from typing import Any

from bot import discord_limits as limits

Path = tuple[str | int, ...]


class Form:
    def __init__(self) -> None:
        self.errors: list[tuple[Path, str, str]] = []

    def __bool__(self) -> bool:
        return bool(self.errors)

    def add(self, path: Path, code: str, message: str) -> None:
        self.errors.append((path, code, message))

    def max_length(self, path: Path, value: Any, limit: int) -> None:
        if value is not None and len(value) > limit:
            self.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")

    def length(self, path: Path, value: Any, low: int, high: int) -> None:
        if value is None or not low <= len(value) <= high:
            self.add(path, "BASE_TYPE_BAD_LENGTH", f"Must be between {low} and {high} in length.")

    def required(self, path: Path, value: Any) -> bool:
        if value is None or value == "":
            self.add(path, "BASE_TYPE_REQUIRED", "This field is required")
            return False
        return True

    def body(self) -> dict[str, Any]:
        errors: dict[str, Any] = {}
        for path, code, message in self.errors:
            node = errors
            for key in path:
                node = node.setdefault(str(key), {})
            node.setdefault("_errors", []).append({"code": code, "message": message})
        return {"code": 50035, "message": "Invalid Form Body", "errors": errors}

    def reason(self) -> str:
        return "; ".join(f"{'.'.join(map(str, path)) or '(body)'}: {message} ({code})"
                         for path, code, message in self.errors)


# --- messages ------------------------------------------------------------------------------------

def _embed_text(embed: dict) -> int:
    size = len(embed.get("title") or "") + len(embed.get("description") or "")
    size += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in embed.get("fields") or [])
    size += len((embed.get("footer") or {}).get("text") or "") + len((embed.get("author") or {}).get("name") or "")
    return size


def embeds(form: Form, items: list[dict] | None) -> None:
    items = items or []
    if len(items) > limits.EMBEDS:
        form.max_length(("embeds",), items, limits.EMBEDS)
    total = 0
    for n, embed in enumerate(items):
        at: Path = ("embeds", n)
        form.max_length((*at, "title"), embed.get("title"), limits.EMBED_TITLE)
        form.max_length((*at, "description"), embed.get("description"), limits.EMBED_DESCRIPTION)
        fields = embed.get("fields") or []
        form.max_length((*at, "fields"), fields, limits.EMBED_FIELDS)
        for k, fld in enumerate(fields):
            if form.required((*at, "fields", k, "name"), fld.get("name")):
                form.max_length((*at, "fields", k, "name"), fld["name"], limits.FIELD_NAME)
            if form.required((*at, "fields", k, "value"), fld.get("value")):
                form.max_length((*at, "fields", k, "value"), fld["value"], limits.FIELD_VALUE)
        if embed.get("footer"):
            form.max_length((*at, "footer", "text"), embed["footer"].get("text"), limits.FOOTER_TEXT)
        if embed.get("author"):
            form.max_length((*at, "author", "name"), embed["author"].get("name"), limits.AUTHOR_NAME)
        total += _embed_text(embed)
    if total > limits.EMBED_TOTAL:
        form.add(("embeds",), "MAX_EMBED_SIZE_EXCEEDED", f"Embed size exceeds maximum size of {limits.EMBED_TOTAL}")


def allowed_mentions(form: Form, allowed: dict | None) -> None:
    if not allowed:
        return
    parse = allowed.get("parse") or []
    for kind in ("roles", "users"):
        ids = allowed.get(kind)
        if ids is None:
            continue
        form.max_length(("allowed_mentions", kind), ids, limits.MENTION_IDS)
        if kind in parse:  # message.mdx:783, :809: parse and the list are mutually exclusive
            form.add(("allowed_mentions", "parse"), "MESSAGE_ALLOWED_MENTIONS_PARSE_EXCLUSIVE",
                     f"parse:[\"{kind}\"] and {kind}: [ids...] are mutually exclusive.")


def components(form: Form, rows: list[dict] | None) -> None:
    rows = rows or []
    form.max_length(("components",), rows, limits.ACTION_ROWS)
    seen: set[str] = set()
    for n, row in enumerate(rows):
        at: Path = ("components", n)
        if row.get("type") != 1:
            form.add((*at, "type"), "COMPONENT_LAYOUT_INVALID",
                     "A legacy message's top-level components are action rows (type 1).")
            continue
        children = row.get("components") or []
        form.length((*at, "components"), children, 1, limits.ROW_BUTTONS)
        for k, child in enumerate(children):
            where: Path = (*at, "components", k)
            custom_id = child.get("custom_id")
            if child.get("type") == 2:
                form.max_length((*where, "label"), child.get("label"), limits.BUTTON_LABEL)
                if child.get("style") == 5:
                    if form.required((*where, "url"), child.get("url")):
                        form.max_length((*where, "url"), child["url"], limits.BUTTON_URL)
                    continue
            elif child.get("type") == 3:
                options = child.get("options") or []
                form.length((*where, "options"), options, 1, limits.SELECT_OPTIONS)
                form.max_length((*where, "placeholder"), child.get("placeholder"), limits.SELECT_PLACEHOLDER)
                for m, option in enumerate(options):
                    for key in ("label", "value", "description"):
                        form.max_length((*where, "options", m, key), option.get(key), limits.SELECT_OPTION_TEXT)
            if form.required((*where, "custom_id"), custom_id):
                form.length((*where, "custom_id"), custom_id, 1, limits.CUSTOM_ID)
                if custom_id in seen:  # reference.mdx:81: unique per message
                    form.add((*where, "custom_id"), "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated")
                seen.add(custom_id)


def message(payload: dict, *, has_files: bool = False, edit: bool = False) -> tuple[Form, bool]:
    """A message body (create or edit, channel or interaction); the bool: it is empty (50006)."""
    form = Form()
    form.max_length(("content",), payload.get("content"), limits.CONTENT)
    nonce = payload.get("nonce")
    if nonce is not None and len(str(nonce)) > limits.NONCE:  # message.mdx: nonce, up to 25 characters
        form.add(("nonce",), "BASE_TYPE_MAX_LENGTH", f"Must be {limits.NONCE} or fewer in length.")
    embeds(form, payload.get("embeds"))
    allowed_mentions(form, payload.get("allowed_mentions"))
    components(form, payload.get("components"))
    empty = not (payload.get("content") or payload.get("embeds") or payload.get("components")
                 or payload.get("sticker_ids") or has_files or payload.get("attachments"))
    return form, empty and not edit


# --- interaction callbacks ------------------------------------------------------------------------

# receiving-and-responding.mdx:270-282: which callback fits which interaction
ALLOWED_CALLBACKS = {
    1: {1},  # PING: PONG
    2: {4, 5, 9, 12},  # a command
    3: {4, 5, 6, 7, 9, 12},  # a component
    4: {8},  # autocomplete
    5: {4, 5, 6, 7, 12},  # a modal submit (6 and 7 when the modal came from a component); never a modal
}


def callback_type(form: Form, interaction_kind: int, callback: Any, *, from_message: bool) -> None:
    allowed = set(ALLOWED_CALLBACKS.get(interaction_kind, set()))
    if interaction_kind == 5 and not from_message:
        allowed -= {6, 7}
    if callback not in allowed:
        form.add(("type",), "INTERACTION_CALLBACK_TYPE_INVALID",
                 f"Value must be one of {tuple(sorted(allowed))} for this interaction (type {interaction_kind}).")


def modal(form: Form, data: dict) -> None:
    at: Path = ("data",)
    if form.required((*at, "custom_id"), data.get("custom_id")):
        form.length((*at, "custom_id"), data["custom_id"], 1, limits.CUSTOM_ID)
    if form.required((*at, "title"), data.get("title")):
        form.length((*at, "title"), data["title"], 1, limits.MODAL_TITLE)
    rows = data.get("components") or []
    form.length((*at, "components"), rows, 1, limits.MODAL_ROWS)
    for n, row in enumerate(rows):
        inputs = row.get("components") if row.get("type") == 1 else [row.get("component")] if row.get("type") == 18 else []
        if row.get("type") == 18:
            form.length((*at, "components", n, "label"), row.get("label"), 1, limits.TEXT_INPUT_LABEL)
        for k, text in enumerate(inputs or []):
            where: Path = (*at, "components", n, "components", k) if row.get("type") == 1 else (*at, "components", n, "component")
            if text is None or text.get("type") != 4:
                form.add(where, "COMPONENT_TYPE_INVALID", "A modal row holds one text input.")
                continue
            if form.required((*where, "custom_id"), text.get("custom_id")):
                form.length((*where, "custom_id"), text["custom_id"], 1, limits.CUSTOM_ID)
            if row.get("type") == 1:
                form.length((*where, "label"), text.get("label"), 1, limits.TEXT_INPUT_LABEL)
            form.max_length((*where, "value"), text.get("value"), limits.TEXT_INPUT_VALUE)
            form.max_length((*where, "placeholder"), text.get("placeholder"), limits.TEXT_INPUT_PLACEHOLDER)
            low, high = text.get("min_length"), text.get("max_length")
            most = limits.TEXT_INPUT_VALUE
            if low is not None and not 0 <= low <= most:
                form.add((*where, "min_length"), "NUMBER_TYPE_MAX", f"int value should be between 0 and {most}.")
            if high is not None and not 1 <= high <= most:
                form.add((*where, "max_length"), "NUMBER_TYPE_MAX", f"int value should be between 1 and {most}.")
            if high is not None and text.get("value") is not None and len(text["value"]) > high:
                form.add((*where, "value"), "BASE_TYPE_MAX_LENGTH", f"Must be {high} or fewer in length.")
        if row.get("type") == 1 and len(inputs or []) != 1:
            form.add((*at, "components", n, "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 1 in length.")


def choices(form: Form, data: dict) -> None:
    items = data.get("choices")
    if items is None:
        form.required(("data", "choices"), None)
        return
    form.max_length(("data", "choices"), items, limits.CHOICES)
    for n, choice in enumerate(items):
        at: Path = ("data", "choices", n)
        form.length((*at, "name"), choice.get("name"), 1, limits.CHOICE_NAME)
        value = choice.get("value")
        if isinstance(value, str):
            form.max_length((*at, "value"), value, limits.CHOICE_VALUE)
        elif not isinstance(value, (int, float)) or isinstance(value, bool):
            form.add((*at, "value"), "BASE_TYPE_REQUIRED", "This field is required")


# --- application commands ----------------------------------------------------------------------------

_NAME = limits.COMMAND_NAME


def _command_size(command: dict) -> int:
    size = len(command.get("name") or "") + len(command.get("description") or "")
    for option in command.get("options") or []:
        size += _command_size(option)
    for choice in command.get("choices") or []:
        size += len(choice.get("name") or "") + len(str(choice.get("value") or ""))
    return size


def _option(form: Form, at: Path, option: dict) -> None:
    """A command (type 0 here), a subcommand group (2), a subcommand (1), or a value option."""
    name = option.get("name") or ""
    if not _NAME.match(name) or name != name.lower():
        form.add((*at, "name"), "APPLICATION_COMMAND_INVALID_NAME", "Command name is invalid")
    form.length((*at, "description"), option.get("description"), 1, limits.COMMAND_DESCRIPTION)
    kind = option.get("type")
    subs = option.get("options") or []
    form.max_length((*at, "options"), subs, limits.COMMAND_OPTIONS)
    if kind in (0, 1, 2):
        for n, sub in enumerate(subs):
            sub_kind = sub.get("type")
            # application-commands.mdx:561: groups hold subcommands; subcommands hold values only
            if (kind == 2 and sub_kind != 1) or (kind == 1 and sub_kind in (1, 2)):
                form.add((*at, "options", n, "type"), "APPLICATION_COMMAND_OPTIONS_TYPE_INVALID",
                         "Subcommand groups hold subcommands, and nothing nests deeper.")
            _option(form, (*at, "options", n), sub)
        _options_order(form, at, subs)
    option_choices = option.get("choices") or []
    form.max_length((*at, "choices"), option_choices, limits.CHOICES)
    if option_choices and option.get("autocomplete"):
        form.add((*at, "autocomplete"), "APPLICATION_COMMAND_AUTOCOMPLETE_WITH_CHOICES",
                 "Autocomplete may not be set when choices are present.")
    for n, choice in enumerate(option_choices):
        form.length((*at, "choices", n, "name"), choice.get("name"), 1, limits.CHOICE_NAME)
        if isinstance(choice.get("value"), str):
            form.max_length((*at, "choices", n, "value"), choice["value"], limits.CHOICE_VALUE)
    for key in ("min_length", "max_length"):
        value = option.get(key)
        if value is not None and not 0 <= value <= limits.STRING_OPTION_LENGTH:
            form.add((*at, key), "NUMBER_TYPE_MAX", f"int value should be less than or equal to {limits.STRING_OPTION_LENGTH}.")


def _options_order(form: Form, at: Path, options: list[dict]) -> None:
    seen_optional = False
    for n, option in enumerate(options):
        if option.get("type") in (1, 2):
            continue
        if option.get("required"):
            if seen_optional:  # application-commands.mdx:65
                form.add((*at, "options", n, "required"), "APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID",
                         "Required options must be placed before non-required options")
        else:
            seen_optional = True


def commands(body: Any) -> Form:
    form = Form()
    if not isinstance(body, list):
        form.add((), "BASE_TYPE_ARRAY", "Must be an array.")
        return form
    chat = [c for c in body if c.get("type", 1) == 1]
    if len(chat) > limits.CHAT_COMMANDS:
        form.add((), "BASE_TYPE_MAX_LENGTH", f"Must be {limits.CHAT_COMMANDS} or fewer in length.")
    names: set[tuple[int, str]] = set()
    for n, command in enumerate(body):
        at: Path = (n,)
        key = (command.get("type", 1), command.get("name") or "")
        if key in names:
            form.add((n, "name"), "APPLICATION_COMMANDS_DUPLICATE_NAME", "Application command names must be unique")
        names.add(key)
        if command.get("type", 1) == 1:
            _option(form, at, {**command, "type": 0})
        if _command_size(command) > limits.COMMAND_SIZE:
            form.add(at, "APPLICATION_COMMAND_TOO_LARGE", f"Command exceeds maximum size ({limits.COMMAND_SIZE})")
    return form


# --- guild objects ------------------------------------------------------------------------------------

def channel(payload: dict, *, thread: bool = False) -> Form:
    form = Form()
    name = payload.get("name")
    if form.required(("name",), name):
        form.length(("name",), name, 1, limits.THREAD_NAME if thread else limits.CHANNEL_NAME)
    if not thread:
        form.max_length(("topic",), payload.get("topic"), limits.CHANNEL_TOPIC)
    if thread and payload.get("auto_archive_duration") not in (None, *limits.THREAD_ARCHIVE_MINUTES):
        form.add(("auto_archive_duration",), "BASE_TYPE_CHOICES",
                 f"Value must be one of {limits.THREAD_ARCHIVE_MINUTES}.")
    return form


def role(payload: dict) -> Form:
    form = Form()
    if payload.get("name") is not None:
        form.length(("name",), payload["name"], 1, limits.ROLE_NAME)
    return form


MENTION_ROLE = re.compile(r"<@&([0-9]+)>")
MENTION_USER = re.compile(r"<@!?([0-9]+)>")
