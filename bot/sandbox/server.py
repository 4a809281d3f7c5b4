"""The sandbox Bot API server and its in-process driver (see the package docstring)."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import itertools
import json
import math
import re
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, Literal, Self
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.sandbox.flood import Clock, FloodControl, counts_for_flood
from bot.sandbox.formatting import (
    EntityParseError,
    ParsedText,
    bot_command_entities,
    entities_from_param,
    finalize_text,
    mention_entities,
    parse_html,
    parse_markdown_v2,
)
from bot.sandbox.spec import ApiError, ApiSpec, Method, UploadedFile, bad_request

if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

OutageKind = Literal["server_error", "drop", "garbage"]
FaultKind = Literal["blocked", "deactivated", "chat_not_found", "server_error"]
MemberStatus = Literal["creator", "administrator", "member", "restricted", "left", "kicked"]

NOT_MODIFIED: Final = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
# Calls that do not count as the bot doing something (for wait_idle).
PASSIVE_METHODS: Final = frozenset(
    {"getupdates", "getme", "getwebhookinfo", "deletewebhook", "logout", "close", "getmycommands"}
)
# Updates Telegram only delivers when asked for explicitly.
OPT_IN_UPDATES: Final = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
CHAT_ACTIONS: Final = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
MAX_UPLOAD: Final = 50 * 1024 * 1024
FAULTS: Final[dict[str, tuple[int, str]]] = {
    "blocked": (403, "Forbidden: bot was blocked by the user"),
    "deactivated": (403, "Forbidden: user is deactivated"),
    "chat_not_found": (400, "Bad Request: chat not found"),
    "server_error": (500, "Internal Server Error"),
}
# setWebhook's secret_token: 1-256 characters of A-Z, a-z, 0-9, _ and -.
WEBHOOK_SECRET: Final = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
WEBHOOK_SECRET_HEADER: Final = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name
WEBHOOK_TIMEOUT: Final = 10.0
# ChatMember objects by status (the spec's subtypes of ChatMember).
MEMBER_TYPES: Final = {
    "creator": "ChatMemberOwner",
    "administrator": "ChatMemberAdministrator",
    "member": "ChatMemberMember",
    "restricted": "ChatMemberRestricted",
    "left": "ChatMemberLeft",
    "kicked": "ChatMemberBanned",
}
# What Telegram answers when the bot writes to a chat it is no longer in.
REMOVED: Final = {
    "group": "Forbidden: bot was kicked from the group chat",
    "supergroup": "Forbidden: bot was kicked from the supergroup chat",
    "channel": "Forbidden: bot is not a member of the channel chat",
}
_FILE_PREFIX: Final = {"document": "BQACAgIAAxkBAAI", "photo": "AgACAgIAAxkBAAI"}
_FILE_DIR: Final = {"document": "documents", "photo": "photos"}


@dataclass(slots=True)
class ApiCall:
    """One request to the Bot API as the sandbox saw and answered it."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str, bytes, str]]
    time: float
    status: int = 0
    response: dict[str, Any] = field(default_factory=dict)
    chat_id: int | None = None


@dataclass(slots=True)
class SentFile:
    """A stored file (an upload or a file re-sent by file_id)."""

    file_id: str
    file_unique_id: str
    kind: str
    file_name: str | None
    mime_type: str | None
    content: bytes
    file_path: str
    width: int = 0
    height: int = 0

    @property
    def file_size(self) -> int:
        """Return the size in bytes."""
        return len(self.content)


@dataclass(slots=True)
class SentMessage:
    """A message in a chat with its current state."""

    chat_id: int
    message_id: int
    date: int
    sender_id: int
    outgoing: bool = True
    text: str | None = None
    html: str | None = None
    entities: list[dict[str, Any]] = field(default_factory=list)
    caption: str | None = None
    caption_entities: list[dict[str, Any]] = field(default_factory=list)
    reply_markup: dict[str, Any] | None = None
    keyboard: dict[str, Any] | None = None
    document: SentFile | None = None
    photo: SentFile | None = None
    # A venue (sendVenue): location, title, address as the Bot API's Venue.
    venue: dict[str, Any] | None = None
    deleted: bool = False
    edits: int = 0
    edit_date: int | None = None
    reply_to: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def buttons(self) -> list[dict[str, Any]]:
        """Return the inline keyboard's buttons, row by row."""
        if not self.reply_markup:
            return []
        rows = self.reply_markup.get("inline_keyboard") or []
        return [button for row in rows for button in row]

    def summary(self) -> dict[str, Any]:
        """Return a JSON-friendly description (for the HTTP control endpoints)."""
        return {
            "chat_id": self.chat_id,
            "message_id": self.message_id,
            "text": self.text,
            "html": self.html,
            "entities": self.entities,
            "caption": self.caption,
            "reply_markup": self.reply_markup,
            "document": None
            if self.document is None
            else {
                "file_name": self.document.file_name,
                "mime_type": self.document.mime_type,
                "file_size": self.document.file_size,
            },
            "deleted": self.deleted,
            "edits": self.edits,
        }


@dataclass(slots=True)
class WebhookDelivery:
    """One attempt to deliver an update to the webhook, and the answer's HTTP status."""

    update_id: int
    status: int  # 0: no answer (connection refused, timeout)
    time: float


@dataclass(slots=True)
class _Webhook:
    url: str
    secret_token: str | None
    max_connections: int
    last_error_date: int | None = None
    last_error_message: str | None = None


@dataclass(frozen=True, slots=True)
class _Outage:
    kind: OutageKind
    until: float
    sends_only: bool


class _Dropped(Exception):
    """The sandbox drops this request's connection (an outage of kind ``drop``)."""


@dataclass(slots=True)
class _Fault:
    kind: FaultKind
    remaining: int | None


@dataclass(slots=True)
class _CallbackQuery:
    chat_id: int
    user_id: int
    answered: bool = False


def _image_size(content: bytes) -> tuple[int, int] | None:
    """Return (width, height) of a PNG, GIF, JPEG or WebP image, or None."""
    if content.startswith(b"\x89PNG\r\n\x1a\n") and len(content) >= 24:
        width, height = struct.unpack(">II", content[16:24])
        return int(width), int(height)
    if content[:6] in (b"GIF87a", b"GIF89a") and len(content) >= 10:
        width, height = struct.unpack("<HH", content[6:10])
        return int(width), int(height)
    if content.startswith(b"RIFF") and content[8:12] == b"WEBP":
        return 512, 512
    if content.startswith(b"\xff\xd8"):
        pos = 2
        while pos + 9 < len(content):
            if content[pos] != 0xFF:
                return None
            marker = content[pos + 1]
            (length,) = struct.unpack(">H", content[pos + 2 : pos + 4])
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height, width = struct.unpack(">HH", content[pos + 5 : pos + 9])
                return int(width), int(height)
            pos += 2 + int(length)
    return None


class Sandbox:
    """A local Bot API server plus the driver that plays the users."""

    def __init__(
        self,
        *,
        token: str = "123456:SANDBOX-TOKEN",  # noqa: S107 - a fake token for a fake server
        bot_username: str = "netzwerkbot_sandbox_bot",
        api_spec: Path | None = None,
        flood: bool = False,
        clock: Clock = time.monotonic,
        strict_html: bool = True,
        inline_mode: bool = True,
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.spec = ApiSpec.load(api_spec)
        self.flood_enabled = flood
        self.strict_html = strict_html
        # Inline mode is switched on with @BotFather's /setinline; getMe reports it.
        self.inline_mode = inline_mode
        self._clock = clock
        self._flood = FloodControl(clock=clock)
        head = token.split(":", 1)[0]
        self.bot_id = int(head) if head.isdigit() else 123456
        self.host = "127.0.0.1"
        self.port = 0
        self.calls: list[ApiCall] = []
        self.accepted_sends: list[ApiCall] = []
        self._users: dict[int, dict[str, Any]] = {}
        self._chats: dict[int, dict[str, Any]] = {}
        self._messages: dict[int, dict[int, SentMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._files: dict[str, SentFile] = {}
        self._file_counter = itertools.count(1)
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._last_update_id = 0
        self._delivered_upto = 0
        self._allowed_updates: frozenset[str] | None = None
        self._wakeup = asyncio.Event()
        self._poll_generation = 0
        self._queries: dict[str, _CallbackQuery] = {}
        # Groups and channels: chat -> user -> ChatMember JSON (the bot included).
        self._members: dict[int, dict[int, dict[str, Any]]] = {}
        self._inline_queries: dict[str, int] = {}
        # Groups that became supergroups: old chat id -> new chat id.
        self._migrated: dict[int, int] = {}
        # answerInlineQuery's parameters, by inline query id.
        self.inline_answers: dict[str, dict[str, Any]] = {}
        self._query_ids = itertools.count(1)
        self._faults: dict[int, list[_Fault]] = {}
        self._blocked: set[int] = set()
        self._commands: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self._menu_buttons: dict[int | None, dict[str, Any]] = {}
        self._last_activity: dict[int, float] = {}
        self._last_activity_any = 0.0
        self._in_flight = 0
        self._storm_until = -1.0
        self._storm_retry_after = 1
        self.storm_refusals = 0
        self._outage: _Outage | None = None
        self.outage_refusals = 0
        self._runner: web.AppRunner | None = None
        self._closing = False
        self._webhook: _Webhook | None = None
        self._webhook_task: asyncio.Task[None] | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        # Telegram backs off after a failed delivery; the sandbox retries sooner.
        self.webhook_retry_delay = 0.2
        self._handlers: dict[str, Callable[[dict[str, Any], Method], Any]] = {
            "getme": self._get_me,
            "getwebhookinfo": self._get_webhook_info,
            "setwebhook": self._set_webhook,
            "deletewebhook": self._delete_webhook,
            "sendmessage": self._send_message,
            "editmessagetext": self._edit_message_text,
            "editmessagecaption": self._edit_message_caption,
            "editmessagereplymarkup": self._edit_message_reply_markup,
            "deletemessage": self._delete_message,
            "deletemessages": self._delete_messages,
            "answercallbackquery": self._answer_callback_query,
            "senddocument": self._send_document,
            "sendphoto": self._send_photo,
            "sendvenue": self._send_venue,
            "copymessage": self._copy_message,
            "forwardmessage": self._forward_message,
            "sendchataction": self._send_chat_action,
            "setmycommands": self._set_my_commands,
            "getmycommands": self._get_my_commands,
            "deletemycommands": self._delete_my_commands,
            "setchatmenubutton": self._set_chat_menu_button,
            "getchatmenubutton": self._get_chat_menu_button,
            "getchat": self._get_chat,
            "getchatmember": self._get_chat_member,
            "getchatadministrators": self._get_chat_administrators,
            "leavechat": self._leave_chat,
            "answerinlinequery": self._answer_inline_query,
            "getfile": self._get_file,
        }

    # ----------------------------------------------------------------- lifecycle

    @property
    def base_url(self) -> str:
        """Return the ``base_url`` for PTB (it appends the token and the method)."""
        return f"http://{self.host}:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """Return the ``base_file_url`` for PTB."""
        return f"http://{self.host}:{self.port}/file/bot"

    @property
    def flood_refusals(self) -> int:
        """Return how many calls flood control refused with 429."""
        return self._flood.refusals

    def set_flood(self, enabled: bool) -> None:
        """Switch flood emulation on or off; switching on starts with full buckets."""
        if enabled and not self.flood_enabled:
            self._flood.reset()
        self.flood_enabled = enabled

    def build_app(self) -> web.Application:
        """Return the aiohttp application (routes for the API, files and control)."""
        app = web.Application(client_max_size=MAX_UPLOAD + 1024 * 1024)
        app.router.add_route("*", "/_sandbox/{action:.+}", self._handle_control)
        app.router.add_route("*", "/file/bot{token}/{path:.+}", self._handle_file)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("*", "/{tail:.*}", self._handle_not_found)
        return app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Start serving on ``host:port`` (port 0 picks a free port)."""
        self._closing = False
        runner = web.AppRunner(
            self.build_app(), handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        self.host = host
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """Stop serving and release the port; pending long polls end at once."""
        self._closing = True
        self._wake_pollers()
        await self._stop_webhook_delivery()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------- driver

    def add_user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        last_name: str | None = None,
        username: str | None = None,
        language_code: str | None = "de",
    ) -> None:
        """Register a user and the private chat with them (idempotent)."""
        if user_id in self._users:
            return
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        chat: dict[str, Any] = {"id": user_id, "type": "private", "first_name": first_name}
        if last_name is not None:
            user["last_name"] = chat["last_name"] = last_name
        if username is not None:
            user["username"] = chat["username"] = username
        if language_code is not None:
            user["language_code"] = language_code
        self._users[user_id] = user
        self._chats[user_id] = chat

    def add_group(
        self, chat_id: int, title: str, *, chat_type: Literal["group", "supergroup"] = "group"
    ) -> None:
        """Register a group chat (negative id) the bot is a member of (idempotent)."""
        if chat_id >= 0:
            raise ValueError("group chat ids are negative")
        if chat_id in self._chats:
            return
        self._chats[chat_id] = {"id": chat_id, "type": chat_type, "title": title}
        self._members[chat_id] = {self.bot_id: self._member_json(self.bot_id, "member", {})}

    def add_channel(
        self,
        chat_id: int,
        title: str,
        *,
        username: str | None = None,
        bot_status: MemberStatus = "administrator",
        can_post_messages: bool = True,
    ) -> None:
        """Register a channel (negative id), by default with the bot as an admin who may post."""
        if chat_id >= 0:
            raise ValueError("channel chat ids are negative")
        if chat_id in self._chats:
            return
        chat: dict[str, Any] = {"id": chat_id, "type": "channel", "title": title}
        if username is not None:
            chat["username"] = username
        self._chats[chat_id] = chat
        rights = {"can_post_messages": can_post_messages} if bot_status == "administrator" else {}
        self._members[chat_id] = {self.bot_id: self._member_json(self.bot_id, bot_status, rights)}

    def set_member(
        self, chat_id: int, user_id: int, status: MemberStatus, **rights: bool
    ) -> dict[str, Any]:
        """Set a user's status (and an admin's rights) in a group or channel; no update.

        Returns the ChatMember JSON that getChatMember answers from now on.
        """
        if self._chats.get(chat_id, {}).get("type") not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown group or channel {chat_id}")
        self.add_user(user_id)
        member = self._member_json(user_id, status, rights)
        self._members[chat_id][user_id] = member
        return member

    def set_bot_member(
        self, chat_id: int, status: MemberStatus, *, by: int, **rights: bool
    ) -> int:
        """Change the bot's own status in a group or channel; return the my_chat_member update.

        ``by`` is the user who did it (an admin adding, promoting or removing the bot).
        """
        if chat_id not in self._members:
            raise ValueError(f"unknown group or channel {chat_id}")
        self.add_user(by)
        old = self._members[chat_id].get(self.bot_id) or self._member_json(self.bot_id, "left", {})
        new = self._member_json(self.bot_id, status, rights)
        self._members[chat_id][self.bot_id] = new
        update = {
            "chat": self._chats[chat_id],
            "from": self._users[by],
            "date": int(time.time()),
            "old_chat_member": old,
            "new_chat_member": new,
        }
        self.spec.check_object("ChatMemberUpdated", update)
        return self._push_update("my_chat_member", update, chat_id)

    def migrate_group(self, chat_id: int, new_chat_id: int, *, by: int) -> tuple[int, int]:
        """Turn a group into a supergroup with a new id, as Telegram does; return update_ids.

        Two service messages arrive: ``migrate_to_chat_id`` in the old group and
        ``migrate_from_chat_id`` in the new supergroup. Sends to the old id are refused from
        now on with 400 and ``parameters.migrate_to_chat_id``.
        """
        old = self._chats.get(chat_id)
        if old is None or old["type"] != "group":
            raise ValueError(f"unknown basic group {chat_id}")
        if new_chat_id in self._chats or not str(new_chat_id).startswith("-100"):
            raise ValueError(f"a supergroup needs a new id -100…, not {new_chat_id}")
        self._chats[new_chat_id] = {**old, "id": new_chat_id, "type": "supergroup"}
        self._members[new_chat_id] = dict(self._members.get(chat_id, {}))
        first = self.send_message(by, chat_id=chat_id, migrate_to_chat_id=new_chat_id)
        self._migrated[chat_id] = new_chat_id
        second = self.send_message(by, chat_id=new_chat_id, migrate_from_chat_id=chat_id)
        return first, second

    def send_inline_query(
        self, user_id: int, query: str, *, chat_type: str = "private", offset: str = ""
    ) -> str:
        """Let a user type ``@bot query`` in a chat; return the inline query's id.

        Raises:
            ValueError: inline mode is off (Telegram then sends no inline queries at all).
        """
        if not self.inline_mode:
            raise ValueError("inline mode is off (switch it on with @BotFather's /setinline)")
        self.add_user(user_id)
        query_id = f"{self.bot_id}{next(self._query_ids):08d}"
        payload = {
            "id": query_id,
            "from": self._users[user_id],
            "query": query,
            "offset": offset,
            "chat_type": chat_type,
        }
        self.spec.check_object("InlineQuery", payload)
        self._inline_queries[query_id] = user_id
        self._push_update("inline_query", payload, None)
        return query_id

    def forward_channel_post(self, user_id: int, channel_id: int, text: str) -> int:
        """Let a user forward a post of a channel into the private chat; return update_id."""
        chat = self._chats.get(channel_id)
        if chat is None or chat.get("type") != "channel":
            raise ValueError(f"unknown channel {channel_id}")
        post_id = self._next_message_id.get(channel_id, 1)
        self._next_message_id[channel_id] = post_id + 1
        origin = {
            "type": "channel",
            "date": int(time.time()),
            "chat": chat,
            "message_id": post_id,
        }
        self.spec.check_object("MessageOriginChannel", origin)
        return self.send_message(user_id, text=text, forward_origin=origin)

    def send_text(
        self,
        user_id: int,
        text: str,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
    ) -> int:
        """Let a user write ``text`` (in private, or in group ``chat_id``); return update_id.

        Commands and @mentions get their entities as Telegram sets them; ``reply_to`` makes
        the message a reply to that message of the chat.
        """
        fields: dict[str, Any] = {"text": text}
        entities = sorted(
            bot_command_entities(text) + mention_entities(text), key=lambda e: e["offset"]
        )
        if entities:
            fields["entities"] = entities
        return self.send_message(user_id, chat_id=chat_id, reply_to=reply_to, **fields)

    def send_message(
        self,
        user_id: int,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        **fields: Any,
    ) -> int:
        """Let a user send a message with arbitrary Bot API fields; return update_id."""
        self.add_user(user_id)
        target = user_id if chat_id is None else chat_id
        if target not in self._chats:
            raise ValueError(f"unknown chat {target}")
        if reply_to is not None and reply_to not in self._messages.get(target, {}):
            raise ValueError(f"message {reply_to} not found in chat {target}")
        message = self._store(target, user_id, outgoing=False)
        message.reply_to = reply_to
        message.text = fields.pop("text", None)
        message.entities = fields.pop("entities", [])
        message.caption = fields.pop("caption", None)
        message.caption_entities = fields.pop("caption_entities", [])
        message.extra = fields
        return self._push_update("message", self._message_json(message), target)

    def press_button(
        self,
        user_id: int,
        message_id: int,
        data: str,
        *,
        check: bool = True,
        chat_id: int | None = None,
    ) -> int:
        """Let a user press an inline button; return the callback_query's update_id.

        With ``check`` the message must exist in the chat (the private chat unless ``chat_id``
        names a group) and carry a button with this callback data; otherwise ValueError.
        Without ``check`` any data is sent, as a forged or stale client would.
        """
        self.add_user(user_id)
        chat_id = user_id if chat_id is None else chat_id
        if chat_id not in self._chats:
            raise ValueError(f"unknown chat {chat_id}")
        message = self._messages.get(chat_id, {}).get(message_id)
        if check:
            if message is None or message.deleted:
                raise ValueError(f"message {message_id} not found in chat {chat_id}")
            if not any(b.get("callback_data") == data for b in message.buttons()):
                raise ValueError(f"message {message_id} has no button with data {data!r}")
        query_id = f"{self.bot_id}{next(self._query_ids):08d}"
        self._queries[query_id] = _CallbackQuery(chat_id, user_id)
        if message is not None and not message.deleted:
            message_json = self._message_json(message)
        else:
            message_json = {"chat": self._chats[chat_id], "message_id": message_id, "date": 0}
        query = {
            "id": query_id,
            "from": self._users[user_id],
            "message": message_json,
            "chat_instance": str(abs(hash((self.bot_id, chat_id)))),
            "data": data,
        }
        return self._push_update("callback_query", query, chat_id)

    def set_bot_blocked(self, user_id: int, blocked: bool = True) -> int:
        """Let a user block (or unblock) the bot; return the my_chat_member update_id."""
        self.add_user(user_id)
        if blocked:
            self._blocked.add(user_id)
        else:
            self._blocked.discard(user_id)
        bot_user = self._bot_user()
        kicked = {"status": "kicked", "user": bot_user, "until_date": 0}
        member = {"status": "member", "user": bot_user}
        update = {
            "chat": self._chats[user_id],
            "from": self._users[user_id],
            "date": int(time.time()),
            "old_chat_member": member if blocked else kicked,
            "new_chat_member": kicked if blocked else member,
        }
        return self._push_update("my_chat_member", update, user_id)

    def inject_fault(self, chat_id: int, kind: FaultKind, *, count: int | None = None) -> None:
        """Make sends to ``chat_id`` fail (permanently, or for the next ``count`` sends)."""
        if kind not in FAULTS:
            raise ValueError(f"unknown fault kind {kind!r}")
        self._faults.setdefault(chat_id, []).append(_Fault(kind, count))

    def storm(self, seconds: float, retry_after: int) -> None:
        """Refuse every send with 429 and ``retry_after`` for the next ``seconds`` seconds.

        A flood storm as Telegram sends when a bot exceeded its limits: independent of flood
        emulation, every send*, copy* and forward* call is refused until the window ends.
        """
        if retry_after < 1:
            raise ValueError("retry_after is at least 1 second")
        self._storm_until = self._clock() + seconds
        self._storm_retry_after = retry_after

    def outage(
        self,
        kind: OutageKind = "server_error",
        *,
        seconds: float | None = None,
        sends_only: bool = False,
    ) -> None:
        """Let Telegram have a bad minute: every request fails until :meth:`end_outage`.

        ``server_error`` answers HTTP 500; ``drop`` closes the connection without an answer
        (the client sees the server disconnect); ``garbage`` answers bytes that are no HTTP (a
        broken proxy; aiohttp's error then quotes the request URL, token included). With
        ``seconds`` the outage also ends by itself after that long. ``sends_only`` fails only
        send*, copy* and forward* calls (edits and the rest still work, as when only
        Telegram's message delivery is down).
        Long polling (getUpdates) is never affected: PTB's polling loop has its own retry.
        """
        if kind not in ("server_error", "drop", "garbage"):
            raise ValueError(f"unknown outage kind {kind!r}")
        until = math.inf if seconds is None else self._clock() + seconds
        self._outage = _Outage(kind, until, sends_only)

    def end_outage(self) -> None:
        """End an outage: requests are answered again."""
        self._outage = None

    def in_outage(self, method: str) -> bool:
        """Tell whether a call of ``method`` fails right now because of an outage."""
        outage = self._outage
        if outage is None or method.lower() == "getupdates":
            return False
        if self._clock() >= outage.until:
            self._outage = None
            return False
        return counts_for_flood(method) or not outage.sends_only

    def clear_faults(self, chat_id: int | None = None) -> None:
        """Remove injected faults for one chat or for all chats."""
        if chat_id is None:
            self._faults.clear()
        else:
            self._faults.pop(chat_id, None)

    def messages(self, chat_id: int) -> list[SentMessage]:
        """Return the bot's messages in a chat, in order, with their current state."""
        return [m for m in self._messages.get(chat_id, {}).values() if m.outgoing]

    def received(self, chat_id: int) -> list[SentMessage]:
        """Return the users' messages in a chat, in order, with their state (e.g. deleted)."""
        return [m for m in self._messages.get(chat_id, {}).values() if not m.outgoing]

    def last_message(self, chat_id: int) -> SentMessage | None:
        """Return the bot's latest message in a chat (deleted ones included)."""
        sent = self.messages(chat_id)
        return sent[-1] if sent else None

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """Return the commands setMyCommands stored for a scope and language."""
        key = self._scope_key(scope or {"type": "default"})
        return list(self._commands.get((key, language_code), []))

    def menu_button(self, chat_id: int | None = None) -> dict[str, Any] | None:
        """Return the menu button setChatMenuButton stored (None: never set)."""
        return self._menu_buttons.get(chat_id)

    @property
    def pending_updates(self) -> int:
        """Return how many injected updates getUpdates has not delivered yet."""
        return self._last_update_id - self._delivered_upto

    async def wait_idle(
        self,
        chat_id: int | None = None,
        *,
        quiet: float = 1.0,
        timeout: float = 10.0,  # noqa: ASYNC109 - part of the driver contract
    ) -> None:
        """Wait until all updates are fetched and the bot has been quiet for ``quiet`` s."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            last = (
                self._last_activity_any
                if chat_id is None
                else self._last_activity.get(chat_id, 0.0)
            )
            busy = self._delivered_upto < self._last_update_id or self._in_flight > 0
            if not busy and now - last >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(
                    f"sandbox not idle after {timeout} s "
                    f"({self.pending_updates} updates not fetched, {self._in_flight} calls open)"
                )
            step = 0.01 if busy else max(0.005, last + quiet - now)
            await asyncio.sleep(min(step, max(0.0, deadline - now) + 0.001))

    # ------------------------------------------------------------ state helpers

    def _bot_user(self) -> dict[str, Any]:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "netzwerkbot",
            "username": self.bot_username,
        }

    def _member_json(self, user_id: int, status: str, rights: dict[str, bool]) -> dict[str, Any]:
        """Return a ChatMember object as Telegram sends it, checked against the spec."""
        if status not in MEMBER_TYPES:
            raise ValueError(f"unknown member status {status!r}")
        user = self._bot_user() if user_id == self.bot_id else self._users[user_id]
        member: dict[str, Any] = {"status": status, "user": user}
        fields = self.spec.types[MEMBER_TYPES[status]].fields
        unknown = set(rights) - {f.name for f in fields}
        if unknown:
            raise ValueError(f"{status} has no rights {sorted(unknown)}")
        for spec in fields:
            if spec.name in member:
                continue
            if spec.name in rights:
                member[spec.name] = rights[spec.name]
            elif spec.required and spec.types == ("Boolean",):
                # An owner is not anonymous; an admin or restricted member has no further rights.
                member[spec.name] = False
            elif spec.required and spec.name == "until_date":
                member[spec.name] = 0
        self.spec.check_object("ChatMember", member)
        return member

    def _bot_status(self, chat_id: int) -> dict[str, Any] | None:
        """Return the bot's ChatMember in a group or channel (None for private chats)."""
        members = self._members.get(chat_id)
        return None if members is None else members.get(self.bot_id)

    def _touch(self, chat_id: int | None) -> None:
        now = time.monotonic()
        self._last_activity_any = now
        if chat_id is not None:
            self._last_activity[chat_id] = now

    def _push_update(self, kind: str, payload: dict[str, Any], chat_id: int | None) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._last_update_id = update_id
        self._touch(chat_id)
        self._wake_pollers()
        return update_id

    def _wake_pollers(self) -> None:
        self._wakeup.set()
        self._wakeup = asyncio.Event()

    def _store(self, chat_id: int, sender_id: int, *, outgoing: bool) -> SentMessage:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        message = SentMessage(chat_id, message_id, int(time.time()), sender_id, outgoing)
        self._messages.setdefault(chat_id, {})[message_id] = message
        return message

    def _message_json(self, message: SentMessage) -> dict[str, Any]:
        sender = self._bot_user() if message.outgoing else self._users[message.sender_id]
        data: dict[str, Any] = {
            "message_id": message.message_id,
            "from": sender,
            "chat": self._chats[message.chat_id],
            "date": message.date,
        }
        if message.edit_date is not None:
            data["edit_date"] = message.edit_date
        if message.reply_to is not None:
            replied = self._messages[message.chat_id].get(message.reply_to)
            if replied is not None and not replied.deleted:
                data["reply_to_message"] = self._message_json(replied)
        if message.text is not None:
            data["text"] = message.text
            if message.entities:
                data["entities"] = self._entities_json(message.entities)
        if message.document is not None:
            data["document"] = self._file_json(message.document)
        if message.photo is not None:
            data["photo"] = [self._file_json(message.photo)]
        if message.venue is not None:
            data["venue"] = message.venue
        if message.caption:
            data["caption"] = message.caption
            if message.caption_entities:
                data["caption_entities"] = self._entities_json(message.caption_entities)
        # Telegram only reports inline keyboards as part of a message.
        if message.reply_markup and "inline_keyboard" in message.reply_markup:
            data["reply_markup"] = {"inline_keyboard": message.reply_markup["inline_keyboard"]}
        data.update(message.extra)
        return data

    def _entities_json(self, entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = []
        for entity in entities:
            item = dict(entity)
            user_id = item.pop("user_id", None)
            if user_id is not None:
                item["user"] = self._users.get(
                    user_id, {"id": user_id, "is_bot": False, "first_name": "User"}
                )
            result.append(item)
        return result

    @staticmethod
    def _file_json(sent: SentFile) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file_id": sent.file_id,
            "file_unique_id": sent.file_unique_id,
            "file_size": sent.file_size,
        }
        if sent.kind == "photo":
            data["width"] = sent.width
            data["height"] = sent.height
        else:
            if sent.file_name is not None:
                data["file_name"] = sent.file_name
            if sent.mime_type is not None:
                data["mime_type"] = sent.mime_type
        return data

    def _resolve_chat(self, value: Any) -> int:
        if isinstance(value, int) and value in self._chats:
            return value
        if isinstance(value, str) and value.startswith("@"):
            for chat_id, chat in self._chats.items():
                if str(chat.get("username", "")).lower() == value[1:].lower():
                    return chat_id
        raise bad_request("chat not found")

    def _find_message(self, chat_id: int, message_id: Any, missing: str) -> SentMessage:
        message = self._messages.get(chat_id, {}).get(message_id)
        if message is None or message.deleted:
            raise bad_request(missing)
        return message

    def _scope_key(self, scope: dict[str, Any]) -> str:
        normalized = {"type": scope.get("type", "default")}
        if "chat_id" in scope:
            normalized["chat_id"] = self._resolve_chat(scope["chat_id"])
        if "user_id" in scope:
            normalized["user_id"] = scope["user_id"]
        return json.dumps(normalized, sort_keys=True)

    # -------------------------------------------------------------------- HTTP

    @staticmethod
    def _json_response(payload: dict[str, Any], status: int = 200) -> web.Response:
        return web.json_response(payload, status=status, dumps=_dumps)

    async def _handle_not_found(self, request: web.Request) -> web.Response:
        return self._json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, 404
        )

    async def _read_params(
        self, request: web.Request
    ) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        params: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body.strip():
                try:
                    decoded = json.loads(body)
                except ValueError:
                    raise bad_request("can't parse JSON encoded request") from None
                if not isinstance(decoded, dict):
                    raise bad_request("JSON object expected")
                params.update(decoded)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    with value.file:
                        content = value.file.read()
                    files[name] = UploadedFile(value.filename, content, value.content_type)
                else:
                    params[name] = value
        return params, files

    async def _handle_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return self._json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        name = request.match_info["method"]
        method = self.spec.method(name)
        call = ApiCall(method.name if method else name, {}, {}, time.monotonic())
        self.calls.append(call)
        passive = name.lower() in PASSIVE_METHODS
        if not passive:
            self._in_flight += 1
        try:
            if method is None:
                raise ApiError(404, "Not Found")
            raw, files = await self._read_params(request)
            call.files = {k: (f.filename, f.content, f.content_type) for k, f in files.items()}
            call.params = raw
            params = self.spec.validate(method, raw, files)
            call.params = {k: v for k, v in params.items() if not isinstance(v, UploadedFile)}
            result = await self._dispatch(method, params, call)
        except _Dropped:
            # Telegram's side of the connection goes away without an answer, or with garbage.
            call.status = 0
            if request.transport is not None:
                if self._outage is not None and self._outage.kind == "garbage":
                    request.transport.write(b"HTTP/1.1 ???\r\n\r\n")
                request.transport.abort()
            return web.Response(status=500)  # never reaches the client
        except ApiError as error:
            call.status = error.status
            call.response = error.payload()
        else:
            call.status = 200
            call.response = {"ok": True, "result": result}
            if counts_for_flood(method.name if method else name):
                self.accepted_sends.append(call)
        finally:
            if not passive:
                self._in_flight -= 1
                self._touch(call.chat_id)
        return self._json_response(call.response, call.status)

    async def _dispatch(self, method: Method, params: dict[str, Any], call: ApiCall) -> Any:
        name = method.name.lower()
        if name == "getupdates":
            return await self._get_updates(params)
        if "chat_id" in params and any(f.name == "chat_id" for f in method.fields):
            params["chat_id"] = self._resolve_chat(params["chat_id"])
            call.chat_id = params["chat_id"]
        elif name == "answercallbackquery":
            query = self._queries.get(str(params["callback_query_id"]))
            call.chat_id = query.chat_id if query else None
        if self._outage is not None and self.in_outage(name):
            self.outage_refusals += 1
            if self._outage.kind in ("drop", "garbage"):
                raise _Dropped
            raise ApiError(500, "Internal Server Error")
        if call.chat_id is not None and name.startswith(("send", "copy", "forward")):
            self._check_faults(call.chat_id)
        if counts_for_flood(name) and self._clock() < self._storm_until:
            self.storm_refusals += 1
            raise ApiError(
                429,
                f"Too Many Requests: retry after {self._storm_retry_after}",
                retry_after=self._storm_retry_after,
            )
        if self.flood_enabled and counts_for_flood(name):
            retry_after = self._flood.acquire(call.chat_id)
            if retry_after is not None:
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry_after}", retry_after=retry_after
                )
        handler = self._handlers.get(name)
        if handler is not None:
            return handler(params, method)
        if name in ("logout", "close"):
            return True
        if method.returns_true:
            return True
        raise bad_request("method not supported by the sandbox")

    def _check_faults(self, chat_id: int) -> None:
        if chat_id in self._blocked:
            raise ApiError(*FAULTS["blocked"])
        if chat_id in self._migrated:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=self._migrated[chat_id],
            )
        bot = self._bot_status(chat_id)
        if bot is not None:
            kind = self._chats[chat_id]["type"]
            if bot["status"] in ("left", "kicked"):
                raise ApiError(403, REMOVED[kind])
            if kind == "channel" and not (
                bot["status"] == "creator" or bot.get("can_post_messages")
            ):
                raise bad_request("need administrator rights in the channel chat")
        faults = self._faults.get(chat_id)
        if not faults:
            return
        fault = faults[0]
        if fault.remaining is not None:
            fault.remaining -= 1
            if fault.remaining <= 0:
                faults.pop(0)
        raise ApiError(*FAULTS[fault.kind])

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, 401
            )
        path = request.match_info["path"]
        for sent in self._files.values():
            if sent.file_path == path:
                return web.Response(
                    body=sent.content, content_type=sent.mime_type or "application/octet-stream"
                )
        return await self._handle_not_found(request)

    # ------------------------------------------------------------- getUpdates

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = min(max(int(params.get("limit") or 100), 1), 100)
        timeout = max(float(params.get("timeout") or 0), 0.0)
        allowed = params.get("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) if allowed else None
        # A newer getUpdates request terminates an older one that is still waiting.
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()
        deadline = time.monotonic() + timeout
        while True:
            wakeup = self._wakeup
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; "
                    "make sure that only one bot instance is running",
                )
            self._confirm(offset)
            offset = 0  # confirmed once; later rounds just look for new updates
            ready = self._updates[:limit]
            if ready:
                self._delivered_upto = max(self._delivered_upto, ready[-1]["update_id"])
                for update in ready:
                    self._touch(_update_chat(update))
                return ready
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._closing:
                return []
            try:
                await asyncio.wait_for(wakeup.wait(), remaining)
            except TimeoutError:
                return []

    def _confirm(self, offset: int) -> None:
        """Forget confirmed updates and those the bot does not want."""
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        allowed = self._allowed_updates
        kept = []
        for update in self._updates:
            kind = next(k for k in update if k != "update_id")
            if (kind in allowed) if allowed is not None else (kind not in OPT_IN_UPDATES):
                kept.append(update)
            else:
                self._delivered_upto = max(self._delivered_upto, update["update_id"])
        self._updates = kept

    # ---------------------------------------------------------------- methods

    def _get_me(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": self.inline_mode,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    # ------------------------------------------------------------- webhook

    @property
    def webhook_url(self) -> str:
        """Return the webhook's URL ("" while the bot uses getUpdates)."""
        return self._webhook.url if self._webhook is not None else ""

    def _get_webhook_info(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        hook = self._webhook
        if hook is None:
            return {
                "url": "",
                "has_custom_certificate": False,
                "pending_update_count": len(self._updates),
            }
        info: dict[str, Any] = {
            "url": hook.url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
            "max_connections": hook.max_connections,
        }
        if self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        if hook.last_error_date is not None:
            info["last_error_date"] = hook.last_error_date
            info["last_error_message"] = hook.last_error_message
        return info

    def _set_webhook(self, params: dict[str, Any], method: Method) -> bool:
        url = str(params.get("url") or "")
        if not url:
            return self._delete_webhook(params, method)
        parts = urlsplit(url)
        if parts.scheme == "http":
            # Telegram accepts only HTTPS; the sandbox also takes http:// on the loopback
            # address, where the tests' bots listen.
            try:
                loopback = ipaddress.ip_address(parts.hostname or "").is_loopback
            except ValueError:
                loopback = parts.hostname == "localhost"
            if not loopback:
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        elif parts.scheme != "https" or not parts.hostname:
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        secret = params.get("secret_token")
        if secret is not None and not WEBHOOK_SECRET.fullmatch(str(secret)):
            raise bad_request("bad webhook: Secret token contains unallowed characters")
        max_connections = int(params.get("max_connections") or 40)
        if not 1 <= max_connections <= 100:
            raise bad_request("bad webhook: Max connections must be between 1 and 100")
        allowed = params.get("allowed_updates")
        if allowed is not None:
            self._allowed_updates = frozenset(allowed) if allowed else None
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook = _Webhook(
            url=url,
            secret_token=None if secret is None else str(secret),
            max_connections=max_connections,
        )
        self._wake_pollers()  # a waiting getUpdates ends; the delivery loop looks at once
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(
                self._deliver_webhook(), name="sandbox-webhook"
            )
        return True

    def _delete_webhook(self, params: dict[str, Any], method: Method) -> bool:
        if params.get("drop_pending_updates"):
            self._drop_pending()
        self._webhook = None
        self._wake_pollers()
        return True

    def _drop_pending(self) -> None:
        self._updates = []
        self._delivered_upto = self._last_update_id

    async def _stop_webhook_delivery(self) -> None:
        task, self._webhook_task = self._webhook_task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _deliver_webhook(self) -> None:
        """POST the pending updates to the webhook one at a time, in order, as Telegram does.

        A 2xx answer confirms the update; anything else (or no answer) is recorded as the
        webhook's last error and the same update is tried again a little later.
        """
        timeout = aiohttp.ClientTimeout(total=WEBHOOK_TIMEOUT)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while (hook := self._webhook) is not None and not self._closing:
                wakeup = self._wakeup
                self._confirm(0)
                if not self._updates:
                    await wakeup.wait()
                    continue
                update = self._updates[0]
                status = await self._post_update(session, hook, update)
                self.webhook_deliveries.append(
                    WebhookDelivery(update["update_id"], status, time.monotonic())
                )
                if 200 <= status < 300:
                    if self._updates and self._updates[0] is update:
                        self._updates.pop(0)
                    self._delivered_upto = max(self._delivered_upto, update["update_id"])
                    self._touch(_update_chat(update))
                    continue
                hook.last_error_date = int(time.time())
                hook.last_error_message = (
                    f"Wrong response from the webhook: {status}"
                    if status
                    else "Connection refused"
                )
                await asyncio.sleep(self.webhook_retry_delay)

    async def _post_update(
        self, session: aiohttp.ClientSession, hook: _Webhook, update: dict[str, Any]
    ) -> int:
        headers = {"Content-Type": "application/json"}
        if hook.secret_token is not None:
            headers[WEBHOOK_SECRET_HEADER] = hook.secret_token
        try:
            async with session.post(hook.url, data=_dumps(update), headers=headers) as answer:
                await answer.read()
                return answer.status
        except (aiohttp.ClientError, TimeoutError):
            return 0

    def _format(
        self, params: dict[str, Any], method: Method, key: str, entities_key: str
    ) -> tuple[ParsedText, str | None]:
        """Parse text or caption with its parse_mode and check the length afterwards."""
        raw = str(params.get(key, ""))
        mode = params.get("parse_mode")
        try:
            if not mode:
                parsed = ParsedText(raw, entities_from_param(raw, params.get(entities_key) or []))
            elif str(mode).lower() == "html":
                parsed = parse_html(raw, strict=self.strict_html)
            elif str(mode).lower() == "markdownv2":
                parsed = parse_markdown_v2(raw)
            elif str(mode).lower() == "markdown":
                raise bad_request(
                    "can't parse entities: legacy Markdown is not supported by the sandbox"
                )
            else:
                raise bad_request("unsupported parse_mode")
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        parsed = finalize_text(parsed)
        spec = next((f for f in method.fields if f.name == key), None)
        high = spec.length[1] if spec and spec.length else (4096 if key == "text" else 1024)
        if key == "text" and not parsed.text:
            raise bad_request("message text is empty")
        if len(parsed.text) > high:
            if key == "caption":
                raise bad_request("message caption is too long")
            if method.name.startswith("edit"):
                raise bad_request("MESSAGE_TOO_LONG")
            raise bad_request("message is too long")
        return parsed, raw if mode else None

    def _new_message(self, params: dict[str, Any]) -> SentMessage:
        chat_id = params["chat_id"]
        reply = params.get("reply_parameters")
        reply_to = None
        if reply:
            target = self._messages.get(chat_id, {}).get(reply.get("message_id"))
            if target is None or target.deleted:
                if not reply.get("allow_sending_without_reply"):
                    raise bad_request("message to be replied not found")
            else:
                reply_to = target.message_id
        message = self._store(chat_id, self.bot_id, outgoing=True)
        message.reply_to = reply_to
        markup = params.get("reply_markup")
        # Only inline keyboards belong to the message; the others change the user's keyboard.
        if markup and "inline_keyboard" in markup:
            message.reply_markup = markup
        else:
            message.keyboard = markup
        return message

    def _send_message(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        parsed, html = self._format(params, method, "text", "entities")
        message = self._new_message(params)
        message.text, message.entities, message.html = parsed.text, parsed.entities, html
        return self._message_json(message)

    def _send_venue(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        # Telegram's own checks beyond the types: coordinates in range, title and address set.
        latitude, longitude = float(params["latitude"]), float(params["longitude"])
        if not -90 <= latitude <= 90 or not -180 <= longitude <= 180:
            raise bad_request("VENUE_GEO_POINT_INVALID")
        for key in ("title", "address"):
            if not str(params.get(key) or "").strip():
                raise bad_request(f"{key} is empty")
        message = self._new_message(params)
        location = {"latitude": latitude, "longitude": longitude}
        message.venue = {
            "location": location,
            "title": str(params["title"]),
            "address": str(params["address"]),
        }
        for key in ("foursquare_id", "foursquare_type", "google_place_id", "google_place_type"):
            if params.get(key):
                message.venue[key] = str(params[key])
        message.extra["location"] = location
        return self._message_json(message)

    def _editable(self, params: dict[str, Any]) -> SentMessage:
        if params.get("inline_message_id"):
            raise bad_request("MESSAGE_ID_INVALID")
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        if params.get("message_id") is None:
            raise bad_request("message identifier is not specified")
        message = self._find_message(
            params["chat_id"], params["message_id"], "message to edit not found"
        )
        if not message.outgoing:
            raise bad_request("message can't be edited")
        return message

    def _commit_edit(self, message: SentMessage) -> dict[str, Any]:
        message.edits += 1
        message.edit_date = int(time.time())
        return self._message_json(message)

    def _edit_message_text(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        message = self._editable(params)
        if "text" not in params:
            raise bad_request("message text is empty")
        if message.text is None:
            raise bad_request("there is no text in the message to edit")
        parsed, html = self._format(params, method, "text", "entities")
        markup = params.get("reply_markup")
        if (parsed.text, parsed.entities, markup) == (
            message.text,
            message.entities,
            message.reply_markup,
        ):
            raise bad_request(NOT_MODIFIED)
        message.text, message.entities, message.html = parsed.text, parsed.entities, html
        message.reply_markup = markup
        return self._commit_edit(message)

    def _edit_message_caption(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        message = self._editable(params)
        if message.text is not None:
            raise bad_request("there is no caption in the message to edit")
        parsed, html = self._format(params, method, "caption", "caption_entities")
        markup = params.get("reply_markup")
        if (parsed.text, parsed.entities, markup) == (
            message.caption or "",
            message.caption_entities,
            message.reply_markup,
        ):
            raise bad_request(NOT_MODIFIED)
        message.caption, message.caption_entities = parsed.text or None, parsed.entities
        message.html, message.reply_markup = html, markup
        return self._commit_edit(message)

    def _edit_message_reply_markup(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        message = self._editable(params)
        markup = params.get("reply_markup")
        if markup == message.reply_markup:
            raise bad_request(NOT_MODIFIED)
        message.reply_markup = markup
        return self._commit_edit(message)

    def _delete_message(self, params: dict[str, Any], method: Method) -> bool:
        message = self._find_message(
            params["chat_id"], params["message_id"], "message to delete not found"
        )
        message.deleted = True
        return True

    def _delete_messages(self, params: dict[str, Any], method: Method) -> bool:
        ids = params["message_ids"]
        if not 1 <= len(ids) <= 100:
            raise bad_request("message_ids must contain 1-100 identifiers")
        for message_id in ids:
            message = self._messages.get(params["chat_id"], {}).get(message_id)
            if message is not None:
                message.deleted = True
        return True

    def _answer_callback_query(self, params: dict[str, Any], method: Method) -> bool:
        query = self._queries.get(str(params["callback_query_id"]))
        if query is None or query.answered:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        query.answered = True
        return True

    def _input_file(self, params: dict[str, Any], key: str, kind: str) -> SentFile:
        value = params[key]
        if isinstance(value, UploadedFile):
            if not value.content:
                raise bad_request("file must be non-empty")
            number = next(self._file_counter)
            width = height = 0
            if kind == "photo":
                size = _image_size(value.content)
                if size is None:
                    raise bad_request("IMAGE_PROCESS_FAILED")
                width, height = size
            suffix = Path(value.filename).suffix if kind == "document" else ".jpg"
            sent = SentFile(
                file_id=f"{_FILE_PREFIX[kind]}{number:06d}",
                file_unique_id=f"AgAD{number:06d}",
                kind=kind,
                file_name=value.filename if kind == "document" else None,
                mime_type=value.content_type if kind == "document" else None,
                content=value.content,
                file_path=f"{_FILE_DIR[kind]}/file_{number}{suffix}",
                width=width,
                height=height,
            )
            self._files[sent.file_id] = sent
            return sent
        text = str(value)
        if text.startswith("attach://"):
            raise bad_request(f"there is no {key} in the request")
        known = self._files.get(text)
        if known is not None:
            if known.kind != kind:
                raise bad_request(f"can't use file of type {known.kind.title()} as {kind.title()}")
            return known
        if re.match(r"https?://", text):
            raise bad_request("failed to get HTTP URL content")
        raise bad_request("wrong file identifier/HTTP URL specified")

    def _send_media(self, params: dict[str, Any], method: Method, kind: str) -> dict[str, Any]:
        sent = self._input_file(params, kind, kind)
        parsed, html = self._format(params, method, "caption", "caption_entities")
        message = self._new_message(params)
        if kind == "photo":
            message.photo = sent
        else:
            message.document = sent
        message.caption = parsed.text or None
        message.caption_entities, message.html = parsed.entities, html
        return self._message_json(message)

    def _send_document(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        return self._send_media(params, method, "document")

    def _send_photo(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        return self._send_media(params, method, "photo")

    def _copy_message(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        source_chat = self._resolve_chat(params["from_chat_id"])
        source = self._find_message(source_chat, params["message_id"], "message to copy not found")
        if "caption" in params and source.text is None:
            parsed, html = self._format(params, method, "caption", "caption_entities")
            caption, caption_entities = parsed.text or None, parsed.entities
        else:
            caption, caption_entities, html = source.caption, source.caption_entities, source.html
        message = self._new_message(params)
        message.text, message.entities = source.text, list(source.entities)
        message.document, message.photo = source.document, source.photo
        message.caption, message.caption_entities = caption, list(caption_entities)
        message.html = html
        message.extra = dict(source.extra)
        return {"message_id": message.message_id}

    def _forward_message(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        source_chat = self._resolve_chat(params["from_chat_id"])
        source = self._find_message(
            source_chat, params["message_id"], "message to forward not found"
        )
        sender = self._bot_user() if source.outgoing else self._users[source.sender_id]
        message = self._new_message({**params, "reply_markup": None})
        message.text, message.entities = source.text, list(source.entities)
        message.document, message.photo = source.document, source.photo
        message.caption, message.caption_entities = source.caption, list(source.caption_entities)
        message.extra = {
            **source.extra,
            "forward_origin": {"type": "user", "date": source.date, "sender_user": sender},
        }
        return self._message_json(message)

    def _send_chat_action(self, params: dict[str, Any], method: Method) -> bool:
        if params["action"] not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    def _command_key(self, params: dict[str, Any]) -> tuple[str, str]:
        language = str(params.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise bad_request("LANG_CODE_INVALID")
        return self._scope_key(params.get("scope") or {"type": "default"}), language

    def _set_my_commands(self, params: dict[str, Any], method: Method) -> bool:
        commands = params["commands"]
        if len(commands) > 100:
            raise bad_request("BOT_COMMANDS_TOO_MUCH")
        key = self._command_key(params)
        if commands:
            self._commands[key] = [
                {"command": c["command"], "description": c["description"]} for c in commands
            ]
        else:
            self._commands.pop(key, None)
        return True

    def _get_my_commands(self, params: dict[str, Any], method: Method) -> list[dict[str, Any]]:
        return list(self._commands.get(self._command_key(params), []))

    def _delete_my_commands(self, params: dict[str, Any], method: Method) -> bool:
        self._commands.pop(self._command_key(params), None)
        return True

    def _set_chat_menu_button(self, params: dict[str, Any], method: Method) -> bool:
        self._menu_buttons[params.get("chat_id")] = params.get("menu_button") or {
            "type": "default"
        }
        return True

    def _get_chat_menu_button(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        button = self._menu_buttons.get(params.get("chat_id")) or self._menu_buttons.get(None)
        if button is None or button.get("type") == "default":
            return {"type": "commands"}
        return button

    def _get_chat(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        return {
            **self._chats[params["chat_id"]],
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _get_chat_member(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        chat_id, user_id = params["chat_id"], params["user_id"]
        members = self._members.get(chat_id)
        if members is None:  # a private chat: the user and the bot are its members
            if user_id not in (chat_id, self.bot_id):
                raise bad_request("user not found")
            status = "member"
            return self._member_json(user_id, status, {})
        bot = members.get(self.bot_id, {})
        if user_id != self.bot_id:
            if bot.get("status") in ("left", "kicked", None):
                raise ApiError(403, REMOVED[self._chats[chat_id]["type"]])
            if self._chats[chat_id]["type"] == "channel" and bot["status"] != "administrator":
                raise bad_request("member list is inaccessible")
        member = members.get(user_id)
        if member is None:
            if user_id != self.bot_id and user_id not in self._users:
                raise bad_request("user not found")
            return self._member_json(user_id, "left", {})
        return member

    def _get_chat_administrators(
        self, params: dict[str, Any], method: Method
    ) -> list[dict[str, Any]]:
        members = self._members.get(params["chat_id"])
        if members is None:
            raise bad_request("there are no administrators in the private chat")
        if members.get(self.bot_id, {}).get("status") in ("left", "kicked", None):
            raise ApiError(403, REMOVED[self._chats[params["chat_id"]]["type"]])
        return [m for m in members.values() if m["status"] in ("creator", "administrator")]

    def _leave_chat(self, params: dict[str, Any], method: Method) -> bool:
        members = self._members.get(params["chat_id"])
        if members is None:
            raise bad_request("chat member status can't be changed in private chats")
        members[self.bot_id] = self._member_json(self.bot_id, "left", {})
        return True

    def _answer_inline_query(self, params: dict[str, Any], method: Method) -> bool:
        query_id = str(params["inline_query_id"])
        if query_id not in self._inline_queries or query_id in self.inline_answers:
            raise bad_request(
                "query is too old and response timeout expired or query ID is invalid"
            )
        results = params["results"]
        if len(results) > 50:
            raise bad_request("RESULTS_TOO_MUCH")
        ids = [str(r.get("id")) for r in results]
        if len(set(ids)) != len(ids):
            raise bad_request("RESULT_ID_DUPLICATE")
        send_message = self.spec.method("sendMessage")
        assert send_message is not None  # noqa: S101 - in every Bot API version
        for result in results:
            if not 1 <= len(str(result["id"]).encode()) <= 64:
                raise bad_request("RESULT_ID_INVALID")
            content = result.get("input_message_content") or {}
            if "message_text" in content:
                # The text must parse as a message would (HTML, 1-4096 characters after it).
                self._format(
                    {
                        "text": content["message_text"],
                        "parse_mode": content.get("parse_mode"),
                        "entities": content.get("entities"),
                    },
                    send_message,
                    "text",
                    "entities",
                )
        self.inline_answers[query_id] = params
        return True

    def _get_file(self, params: dict[str, Any], method: Method) -> dict[str, Any]:
        sent = self._files.get(str(params["file_id"]))
        if sent is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": sent.file_id,
            "file_unique_id": sent.file_unique_id,
            "file_size": sent.file_size,
            "file_path": sent.file_path,
        }

    # ------------------------------------------------------- control endpoints

    async def _handle_control(self, request: web.Request) -> web.Response:
        action = request.match_info["action"].strip("/")
        body: dict[str, Any] = {}
        if request.method == "POST" and request.can_read_body:
            try:
                body = await request.json()
            except ValueError:
                return self._json_response({"ok": False, "description": "JSON expected"}, 400)
        query = request.query
        try:
            result = await self._control(action, body, query)
        except (ValueError, KeyError, TypeError) as error:
            return self._json_response({"ok": False, "description": str(error)}, 400)
        except TimeoutError as error:
            return self._json_response({"ok": False, "description": str(error)}, 408)
        if result is None:
            return await self._handle_not_found(request)
        return self._json_response({"ok": True, "result": result})

    async def _control(self, action: str, body: dict[str, Any], query: Any) -> Any:
        if action == "send_text":
            chat = body.get("chat_id")
            return self.send_text(
                int(body["user_id"]),
                str(body["text"]),
                chat_id=None if chat is None else int(chat),
            )
        if action == "press_button":
            return self.press_button(
                int(body["user_id"]),
                int(body["message_id"]),
                str(body["data"]),
                check=bool(body.get("check", True)),
                chat_id=None if body.get("chat_id") is None else int(body["chat_id"]),
            )
        if action == "add_group":
            self.add_group(int(body["chat_id"]), str(body["title"]))
            return True
        if action == "add_channel":
            self.add_channel(
                int(body["chat_id"]), str(body["title"]), username=body.get("username")
            )
            return True
        if action == "set_member":
            rights = {k: bool(v) for k, v in body.get("rights", {}).items()}
            return self.set_member(
                int(body["chat_id"]), int(body["user_id"]), body["status"], **rights
            )
        if action == "set_bot_member":
            rights = {k: bool(v) for k, v in body.get("rights", {}).items()}
            return self.set_bot_member(
                int(body["chat_id"]), body["status"], by=int(body["by"]), **rights
            )
        if action == "inline_query":
            return self.send_inline_query(int(body["user_id"]), str(body.get("query", "")))
        if action == "inline_answer":
            return self.inline_answers.get(str(query["id"]))
        if action == "add_user":
            user_id = int(body.pop("user_id"))
            self.add_user(user_id, **body)
            return True
        if action == "block":
            return self.set_bot_blocked(int(body["user_id"]), bool(body.get("blocked", True)))
        if action == "messages":
            return [m.summary() for m in self.messages(int(query["chat_id"]))]
        if action == "calls/count":
            by_method: dict[str, int] = {}
            for call in self.calls:
                by_method[call.method] = by_method.get(call.method, 0) + 1
            return {
                "total": len(self.calls),
                "by_method": by_method,
                "accepted_sends": len(self.accepted_sends),
                "flood_refusals": self.flood_refusals,
            }
        if action == "fault":
            count = body.get("count")
            self.inject_fault(
                int(body["chat_id"]), body["kind"], count=None if count is None else int(count)
            )
            return True
        if action == "clear_faults":
            chat_id = body.get("chat_id")
            self.clear_faults(None if chat_id is None else int(chat_id))
            return True
        if action == "outage":
            seconds = body.get("seconds")
            self.outage(
                body.get("kind", "server_error"),
                seconds=None if seconds is None else float(seconds),
                sends_only=bool(body.get("sends_only", False)),
            )
            return True
        if action == "end_outage":
            self.end_outage()
            return True
        if action == "storm":
            self.storm(float(body["seconds"]), int(body["retry_after"]))
            return True
        if action == "flood":
            self.set_flood(bool(body["enabled"]))
            return {"enabled": self.flood_enabled}
        if action == "idle":
            chat = query.get("chat_id")
            await self.wait_idle(
                None if chat is None else int(chat),
                quiet=float(query.get("quiet", 1.0)),
                timeout=float(query.get("timeout", 10.0)),
            )
            return True
        return None


def _update_chat(update: dict[str, Any]) -> int | None:
    """Return the chat an update belongs to, if any."""
    for key, value in update.items():
        if key == "update_id" or not isinstance(value, dict):
            continue
        chat = value.get("chat") or (value.get("message") or {}).get("chat")
        if isinstance(chat, dict) and isinstance(chat.get("id"), int):
            return int(chat["id"])
    return None


def _dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)
