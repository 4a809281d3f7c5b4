"""A recording fake of PTB's request layer, and builders of the updates a person sends.

The fast test level drives the real ``Application`` with ``process_update``; only the HTTP
layer under ``telegram.Bot`` is replaced, as PTB's own test suite does. ``RecordingRequest``
answers the Bot API methods the bot uses in-process, like Telegram would:

* every call is checked against the Bot API specification the sandbox uses (required
  parameters, types, lengths such as callback data's 1-64 bytes) and a bad one is refused with
  400, as Telegram would refuse it;
* texts in HTML parse mode are parsed with the sandbox's strict parser (TDLib's rules), so a
  text that Telegram would refuse ("can't parse entities", longer than 4096 characters after
  parsing) is refused here too;
* every call is recorded with its parameters, its status and its answer;
* ``fail()`` makes the next matching calls fail with an error of Telegram's (429, 403, 500).
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

from telegram import Update
from telegram.request import BaseRequest

from bot.sandbox.formatting import (
    EntityParseError,
    ParsedText,
    bot_command_entities,
    finalize_text,
    mention_entities,
    parse_html,
)
from bot.sandbox.spec import ApiError, ApiSpec, UploadedFile, bad_request

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.request import RequestData

BOT_ID: Final = 424242
BOT_USERNAME: Final = "netzwerkbot_test_bot"
# A fixed Unix time for the dates of messages; the bot reads "now" from its ManualClock.
DATE: Final = 1_795_000_000
# Methods that answer a sent or edited message.
SENDING: Final = frozenset({"sendmessage", "senddocument", "sendphoto", "copymessage"})
EDITING: Final = frozenset({"editmessagetext", "editmessagereplymarkup", "editmessagecaption"})
# Telegram's answers for the faults a test can ask for.
FAULT_TEXTS: Final = {
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
}
ADMIN_RIGHTS: Final = (
    "can_be_edited",
    "is_anonymous",
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
)


@dataclass
class Call:
    """One Bot API call of the bot: method, parameters (decoded JSON), files, answer."""

    method: str
    params: dict[str, Any]
    files: dict[str, tuple[str | None, bytes]] = field(default_factory=dict)
    status: int = 200
    response: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """Tell whether Telegram accepted the call."""
        return self.status == 200

    @property
    def chat_id(self) -> int | None:
        """Return the chat the call is about, if any."""
        value = self.params.get("chat_id")
        return value if isinstance(value, int) else None

    @property
    def text(self) -> str:
        """Return the text or caption as sent (HTML source in HTML mode)."""
        return str(self.params.get("text", self.params.get("caption", "")))

    @property
    def plain(self) -> str:
        """Return the text as a person reads it (Telegram's answer, HTML parsed)."""
        result = self.response.get("result")
        if isinstance(result, dict):
            return str(result.get("text", result.get("caption", "")))
        return ""

    @property
    def message_id(self) -> int | None:
        """Return the id of the sent or edited message."""
        result = self.response.get("result")
        return result.get("message_id") if isinstance(result, dict) else None

    @property
    def buttons(self) -> list[dict[str, Any]]:
        """Return the inline buttons, row after row."""
        markup = self.params.get("reply_markup") or {}
        return [b for row in markup.get("inline_keyboard", []) for b in row]

    @property
    def labels(self) -> list[str]:
        """Return the labels of the inline buttons."""
        return [str(b["text"]) for b in self.buttons]


@dataclass
class _Fault:
    method: str
    status: int
    description: str
    retry_after: int | None
    chat_id: int | None
    remaining: int


class RecordingRequest(BaseRequest):
    """A request layer that answers the Bot API in-process and records every call."""

    __slots__ = (
        "_faults",
        "_message_ids",
        "calls",
        "chats",
        "members",
        "messages",
        "spec",
        "users",
    )

    def __init__(self) -> None:
        self.spec = ApiSpec.load()
        self.calls: list[Call] = []
        self.chats: dict[int, dict[str, Any]] = {}
        self.users: dict[int, dict[str, Any]] = {}
        # The status of a user in a group ("creator", "administrator", "member", ...).
        self.members: dict[tuple[int, int], str] = {}
        # Every message of a chat, as Telegram returns it, by chat and message id.
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._message_ids: dict[int, itertools.count[int]] = {}
        self._faults: list[_Fault] = []

    # ------------------------------------------------------------------ the test's side

    def fail(
        self,
        method: str,
        status: int,
        *,
        times: int = 1,
        chat_id: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
    ) -> None:
        """Refuse the next ``times`` calls of ``method`` (to ``chat_id``) with ``status``."""
        if status == 429 and retry_after is None:
            retry_after = 1  # Telegram's smallest
        text = description or FAULT_TEXTS.get(status, f"Error {status}").format(
            retry_after=retry_after
        )
        self._faults.append(_Fault(method.lower(), status, text, retry_after, chat_id, times))

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Return the accepted sends and edits (to ``chat_id``), oldest first."""
        return [
            c
            for c in self.calls
            if c.ok
            and c.method.lower() in SENDING | EDITING
            and (chat_id is None or c.chat_id == chat_id)
        ]

    def of(self, method: str) -> list[Call]:
        """Return every call of ``method``, accepted or not."""
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def refused(self) -> list[Call]:
        """Return the calls Telegram would have refused (400), "not modified" edits aside."""
        return [
            c
            for c in self.calls
            if c.status == 400 and "not modified" not in str(c.response.get("description"))
        ]

    def next_message_id(self, chat_id: int) -> int:
        """Return a new message id in ``chat_id`` (ids are per chat, as in private chats)."""
        return next(self._message_ids.setdefault(chat_id, itertools.count(1)))

    def bot_user(self) -> dict[str, Any]:
        """Return the bot as a User object."""
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "Netzwerkbot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    # --------------------------------------------------------------- BaseRequest's side

    @property
    def read_timeout(self) -> float | None:
        """Return no timeout: nothing here waits."""
        return None

    async def initialize(self) -> None:
        """Nothing to open."""

    async def shutdown(self) -> None:
        """Nothing to close."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer one Bot API call like Telegram and record it."""
        name = url.rsplit("/", 1)[-1]
        params, files = _decode(request_data)
        call = Call(name, params, {k: (f.filename, f.content) for k, f in files.items()})
        self.calls.append(call)
        try:
            api_method = self.spec.method(name)
            if api_method is None:
                raise ApiError(404, "Not Found")
            checked = self.spec.validate(api_method, params, files)
            # Recorded as Telegram reads them: numbers as numbers, markup as objects.
            call.params = {k: v for k, v in checked.items() if not isinstance(v, UploadedFile)}
            self._check_faults(name.lower(), call.chat_id)
            result = self._answer(name.lower(), checked)
        except ApiError as error:
            call.status, call.response = error.status, error.payload()
        else:
            call.response = {"ok": True, "result": result}
        return call.status, json.dumps(call.response).encode()

    def _check_faults(self, method: str, chat_id: int | None) -> None:
        for fault in self._faults:
            if fault.method == method and fault.chat_id in (None, chat_id):
                fault.remaining -= 1
                if fault.remaining <= 0:
                    self._faults.remove(fault)
                raise ApiError(fault.status, fault.description, retry_after=fault.retry_after)

    def _answer(self, method: str, params: dict[str, Any]) -> Any:
        """Return the result of a valid call."""
        if method == "getme":
            return self.bot_user()
        if method in SENDING:
            return self._send(method, params)
        if method in EDITING:
            return self._edit(method, params)
        if method == "getchatmember":
            return self._chat_member(params)
        if method == "getchat":
            return {**self._chat(params["chat_id"]), "accent_color_id": 0, "max_reaction_count": 0}
        if method == "getmycommands":
            return []
        if method == "getupdates":
            return []
        if method == "deletemessage":
            key = (params["chat_id"], params["message_id"])
            if self.messages.pop(key, None) is None:
                raise bad_request("message to delete not found")
            return True
        spec = self.spec.method(method)
        if spec is not None and spec.returns_true:
            return True  # setMyCommands, answerCallbackQuery, sendChatAction, ...
        raise bad_request(f"method {method} is not answered by the fake")

    def _chat(self, chat_id: Any) -> dict[str, Any]:
        chat = self.chats.get(chat_id) if isinstance(chat_id, int) else None
        if chat is None:
            raise bad_request("chat not found")
        return chat

    def _format(self, params: dict[str, Any], key: str, limit: int) -> ParsedText:
        """Parse a text or caption as Telegram does and check its length after parsing."""
        raw = str(params.get(key, ""))
        mode = str(params.get("parse_mode") or "").lower()
        if mode not in ("", "html"):
            raise bad_request(f"parse mode {mode} is not expected from the bot")
        try:
            parsed = finalize_text(parse_html(raw) if mode else ParsedText(raw, []))
        except EntityParseError as error:
            raise bad_request(f"can't parse entities: {error}") from None
        if key == "text" and not parsed.text:
            raise bad_request("message text is empty")
        if len(parsed.text) > limit:
            raise bad_request("message is too long" if key == "text" else "caption is too long")
        return parsed

    def _send(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        message: dict[str, Any] = {
            "message_id": self.next_message_id(chat["id"]),
            "from": self.bot_user(),
            "chat": chat,
            "date": DATE,
        }
        if method == "sendmessage":
            message["text"] = self._format(params, "text", 4096).text
        elif method == "copymessage":
            return {"message_id": message["message_id"]}
        else:
            if "caption" in params:
                message["caption"] = self._format(params, "caption", 1024).text
            upload = params.get("document") or params.get("photo")
            name = upload.filename if isinstance(upload, UploadedFile) else None
            kind = "document" if method == "senddocument" else "photo"
            file = {"file_id": f"{kind}-{message['message_id']}", "file_unique_id": "u"}
            message[kind] = (
                {**file, "file_name": name}
                if kind == "document"
                else [{**file, "width": 1, "height": 1}]
            )
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def _edit(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        chat_id, message_id = params.get("chat_id"), params.get("message_id")
        if not isinstance(chat_id, int) or not isinstance(message_id, int):
            raise bad_request("message to edit not found")  # inline messages are not used
        key = (chat_id, message_id)
        message = self.messages.get(key)
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != BOT_ID:
            raise bad_request("message can't be edited")
        edited = dict(message)
        if method == "editmessagetext":
            if "text" not in message:
                raise bad_request("there is no text in the message to edit")
            edited["text"] = self._format(params, "text", 4096).text
        elif method == "editmessagecaption":
            edited["caption"] = self._format(params, "caption", 1024).text
        markup = params.get("reply_markup")
        if markup and "inline_keyboard" in markup:
            edited["reply_markup"] = markup
        else:
            edited.pop("reply_markup", None)
        if edited == message:
            raise bad_request(
                "message is not modified: specified new message content and reply markup are "
                "exactly the same as a current content and reply markup of the message"
            )
        edited["edit_date"] = DATE
        self.messages[key] = edited
        return edited

    def _chat_member(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        user_id = params["user_id"]
        user = self.bot_user() if user_id == BOT_ID else self.users.get(user_id)
        if user is None:
            raise bad_request("user not found")
        status = self.members.get((chat["id"], user_id), "member")
        member: dict[str, Any] = {"status": status, "user": user}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(dict.fromkeys(ADMIN_RIGHTS, False))
            member["can_manage_chat"] = True
        elif status == "restricted":
            raise bad_request("restricted members are not answered by the fake")
        elif status == "kicked":
            member["until_date"] = 0
        return member


def _decode(
    request_data: RequestData | None,
) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    """Return the call's parameters as Telegram reads them, and its uploaded files."""
    if request_data is None:
        return {}, {}
    if not request_data.multipart_data:
        payload = request_data.json_payload
        return (json.loads(payload) if payload else {}), {}
    # A multipart form: every parameter is a string, as in the sandbox and at Telegram.
    files = {}
    for name, part in request_data.multipart_data.items():
        content = part[1] if isinstance(part[1], bytes) else part[1].read()
        files[name] = UploadedFile(part[0], content, part[2] if len(part) > 2 else None)
    return dict(request_data.json_parameters), files


class Updates:
    """Builds the updates people send (Bot API JSON parsed with ``Update.de_json``)."""

    def __init__(self, request: RecordingRequest, bot: Bot) -> None:
        self.request = request
        self.bot = bot
        self._update_ids = itertools.count(1)

    def user(self, user_id: int, first_name: str = "Erika") -> dict[str, Any]:
        """Register a person and their private chat with the bot; return the User object."""
        user = {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "de"}
        self.request.users[user_id] = user
        self.request.chats[user_id] = {"id": user_id, "type": "private", "first_name": first_name}
        return user

    def group(
        self, chat_id: int, title: str = "Netzwerkgruppe", *, chat_type: str = "supergroup"
    ) -> dict[str, Any]:
        """Register a group (a negative id) and return the Chat object."""
        chat = {"id": chat_id, "type": chat_type, "title": title}
        self.request.chats[chat_id] = chat
        return chat

    def message(
        self,
        user_id: int,
        text: str | None = None,
        *,
        chat_id: int | None = None,
        reply_to: int | None = None,
        **fields: Any,
    ) -> Update:
        """Return a message update from ``user_id`` in ``chat_id`` (default: private chat).

        Commands and @mentions get their entities, as Telegram attaches them; ``reply_to``
        makes it a reply to that message of the chat.
        """
        chat = self.request.chats[chat_id if chat_id is not None else user_id]
        message: dict[str, Any] = {
            "message_id": self.request.next_message_id(chat["id"]),
            "from": self.request.users[user_id],
            "chat": chat,
            "date": DATE,
            **fields,
        }
        if text is not None:
            message["text"] = text
            entities = sorted(
                bot_command_entities(text) + mention_entities(text), key=lambda e: e["offset"]
            )
            if entities:
                message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = self.request.messages[(chat["id"], reply_to)]
        self.request.messages[(chat["id"], message["message_id"])] = message
        return self._update({"message": message})

    def callback(self, user_id: int, message: dict[str, Any], data: str) -> Update:
        """Return the update of ``user_id`` pressing a button with ``data`` under ``message``."""
        update_id = next(self._update_ids)
        query = {
            "id": f"cq-{update_id}",
            "from": self.request.users[user_id],
            "message": message,
            "chat_instance": f"ci-{message['chat']['id']}",
            "data": data,
        }
        return Update.de_json({"update_id": update_id, "callback_query": query}, self.bot)

    def bot_status(self, chat_id: int, user_id: int, old: str, new: str) -> Update:
        """Return the update telling that ``user_id`` changed the bot's status in a chat.

        ``old`` and ``new`` are statuses without extra rights: "member", "left", "kicked"
        (a private chat's "kicked" is the person blocking the bot).
        """
        bot = self.request.bot_user()

        def member(status: str) -> dict[str, Any]:
            return {
                "status": status,
                "user": bot,
                **({"until_date": 0} if status == "kicked" else {}),
            }

        change = {
            "chat": self.request.chats[chat_id],
            "from": self.request.users[user_id],
            "date": DATE,
            "old_chat_member": member(old),
            "new_chat_member": member(new),
        }
        return self._update({"my_chat_member": change})

    def _update(self, payload: dict[str, Any]) -> Update:
        return Update.de_json({"update_id": next(self._update_ids), **payload}, self.bot)
