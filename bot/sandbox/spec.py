"""The Bot API specification (``api.json``) and the parameter checks derived from it.

Every call is checked against the method's documented parameters: required ones must be
present, each value must fit one of the documented types (``Integer``, ``String``, ``Boolean``,
``Float``, ``InputFile``, ``Array of X`` and object types, recursively), and length ranges written
in the descriptions ("1-64 bytes", "0-200 characters") are enforced. Ranges marked "after
entities parsing" are left to the method implementation, which knows the parsed text.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Final

from bot.sandbox.formatting import check_url

ENV_API_SPEC: Final = "NETZWERKBOT_API_SPEC"
# A copy of the shared specification ships with the package (see API_SOURCE.md beside it), so
# the demo works from a plain install; tests check that it matches ../shared.
DEFAULT_API_SPEC: Final = Path(__file__).resolve().with_name("api.json")

_RANGE: Final = re.compile(r"(\d+)-(\d+) (characters|bytes)")
_DISCRIMINATOR: Final = re.compile(r'(?:must be|always) "?([a-z_]+)"?')
_INTEGER: Final = re.compile(r"[+-]?\d+")
_BOT_COMMAND: Final = re.compile(r"[a-z0-9_]{1,32}")
# Fields of InlineKeyboardButton that do not count as its action.
_BUTTON_NON_ACTIONS: Final = frozenset({"text", "icon_custom_emoji_id", "style"})
# Telegram's own error texts for some length violations; the rest get a generic text.
_LENGTH_ERRORS: Final = {
    ("InlineKeyboardButton", "callback_data"): "BUTTON_DATA_INVALID",
    ("BotCommand", "command"): "BOT_COMMAND_INVALID",
    ("BotCommand", "description"): "BOT_COMMAND_DESCRIPTION_INVALID",
    ("answerCallbackQuery", "text"): "MESSAGE_TOO_LONG",
}
_OBJECT_CONTEXT: Final = {
    "InlineKeyboardButton": "can't parse inline keyboard button",
    "KeyboardButton": "can't parse keyboard button",
    "BotCommand": "can't parse BotCommand",
    "MessageEntity": "can't parse MessageEntity",
}


class ApiError(Exception):
    """A Bot API error answer: HTTP status, description and optional retry_after."""

    def __init__(
        self,
        status: int,
        description: str,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after
        self.migrate_to_chat_id = migrate_to_chat_id

    def payload(self) -> dict[str, Any]:
        """Return the JSON body Telegram sends for this error."""
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.status,
            "description": self.description,
        }
        parameters: dict[str, int] = {}
        if self.retry_after is not None:
            parameters["retry_after"] = self.retry_after
        if self.migrate_to_chat_id is not None:
            parameters["migrate_to_chat_id"] = self.migrate_to_chat_id
        if parameters:
            body["parameters"] = parameters
        return body


def bad_request(text: str) -> ApiError:
    """Return a 400 error with Telegram's "Bad Request: " prefix."""
    return ApiError(400, f"Bad Request: {text}")


@dataclass(frozen=True, slots=True)
class UploadedFile:
    """A file sent as a multipart part."""

    filename: str
    content: bytes
    content_type: str


@dataclass(frozen=True, slots=True)
class Field:
    """One documented parameter or object field."""

    name: str
    types: tuple[str, ...]
    required: bool
    description: str
    length: tuple[int, int, str] | None  # (min, max, "characters" | "bytes")
    after_entities: bool


@dataclass(frozen=True, slots=True)
class Method:
    """One documented method."""

    name: str
    returns: tuple[str, ...]
    fields: tuple[Field, ...]

    @property
    def returns_true(self) -> bool:
        """Tell whether the documented result is just True."""
        return self.returns == ("Boolean",)


@dataclass(frozen=True, slots=True)
class TypeSpec:
    """One documented object type."""

    name: str
    fields: tuple[Field, ...]
    subtypes: tuple[str, ...] = ()
    discriminator: tuple[str, str] | None = None  # (field name, value)
    by_name: dict[str, Field] = field(default_factory=dict)


def _field(raw: dict[str, Any]) -> Field:
    description = str(raw.get("description", ""))
    match = _RANGE.search(description)
    length = (int(match.group(1)), int(match.group(2)), match.group(3)) if match else None
    return Field(
        name=raw["name"],
        types=tuple(raw["types"]),
        required=bool(raw["required"]),
        description=description,
        length=length,
        after_entities="after entit" in description,
    )


class ApiSpec:
    """The parsed ``api.json``: methods by lower-case name and object types by name."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.version: str = str(data.get("version", ""))
        self.methods: dict[str, Method] = {}
        for name, raw in data["methods"].items():
            fields = tuple(_field(f) for f in raw.get("fields", []))
            self.methods[name.lower()] = Method(name, tuple(raw.get("returns", [])), fields)
        self.types: dict[str, TypeSpec] = {}
        for name, raw in data["types"].items():
            fields = tuple(_field(f) for f in raw.get("fields", []) or [])
            discriminator = None
            if raw.get("subtype_of") and fields:
                match = _DISCRIMINATOR.search(fields[0].description)
                if match:
                    discriminator = (fields[0].name, match.group(1))
            self.types[name] = TypeSpec(
                name,
                fields,
                tuple(raw.get("subtypes", [])),
                discriminator,
                {f.name: f for f in fields},
            )

    @classmethod
    def load(cls, path: Path | None = None) -> ApiSpec:
        """Load the spec from ``path``, ``$NETZWERKBOT_API_SPEC`` or the shared default."""
        if path is None:
            env = os.environ.get(ENV_API_SPEC)
            path = Path(env) if env else DEFAULT_API_SPEC
        return _load_cached(path.resolve())

    def method(self, name: str) -> Method | None:
        """Return the method for a case-insensitive name."""
        return self.methods.get(name.lower())

    def validate(
        self, method: Method, params: dict[str, Any], files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        """Check and convert a call's parameters; raise ApiError like the Bot API would."""
        result = dict(params)
        for spec in method.fields:
            if spec.name in files and "InputFile" in spec.types:
                result[spec.name] = files[spec.name]
                continue
            value = params.get(spec.name)
            if value is None:
                if spec.required:
                    raise bad_request(_missing(spec))
                continue
            result[spec.name] = self._value(
                value, spec, files, context=method.name, top_level=True
            )
        return result

    def check_object(self, type_name: str, value: dict[str, Any]) -> None:
        """Check an object the sandbox produces (an update's part) against its documented type.

        Raises:
            ValueError: a required field is missing or a value has the wrong type.
        """
        type_spec = self.types.get(type_name)
        if type_spec is None:
            raise ValueError(f"unknown type {type_name}")
        try:
            self._object(value, type_spec, {})
        except ApiError as error:
            raise ValueError(f"{type_name}: {error.description}") from None

    def _value(
        self,
        value: Any,
        spec: Field,
        files: dict[str, UploadedFile],
        *,
        context: str,
        top_level: bool,
    ) -> Any:
        """Convert ``value`` to the first documented type it fits."""
        errors: list[ApiError] = []
        types = spec.types
        if len(types) > 1 and all(t in self.types for t in types):
            # Alternative object types (reply_markup): the fields present decide which one.
            if isinstance(value, str) and top_level:
                value = _json(value, spec.name)
            if isinstance(value, dict):
                fitting = [
                    t
                    for t in types
                    if all(f.name in value for f in self.types[t].fields if f.required)
                ]
                types = tuple(fitting[:1]) or types
        for type_name in types:
            try:
                converted = self._convert(value, type_name, spec.name, files, top_level=top_level)
            except ApiError as error:
                errors.append(error)
                continue
            self._check_length(converted, spec, context)
            return converted
        if len(types) > 1 and any(t in self.types for t in types):
            if spec.name == "reply_markup":
                raise bad_request("can't parse reply keyboard markup JSON object")
            # An object that fitted none of the alternatives: show the most specific complaint.
            specific = [e for e in errors if "must be of type" not in e.description]
            raise specific[0] if specific else errors[0]
        raise errors[0]

    def _check_length(self, value: Any, spec: Field, context: str) -> None:
        """Enforce a documented length range unless it counts after entity parsing."""
        if spec.length is None or spec.after_entities or not isinstance(value, str):
            return
        low, high, unit = spec.length
        size = len(value.encode()) if unit == "bytes" else len(value)
        if low <= size <= high:
            return
        special = _LENGTH_ERRORS.get((context, spec.name))
        if special is not None:
            raise bad_request(special)
        raise bad_request(f'field "{spec.name}" must be {low}-{high} {unit} long')

    def _convert(
        self,
        value: Any,
        type_name: str,
        name: str,
        files: dict[str, UploadedFile],
        *,
        top_level: bool,
    ) -> Any:
        """Convert ``value`` to ``type_name`` or raise ApiError."""
        wrong = bad_request(f'field "{name}" must be of type {type_name}')
        if type_name == "Integer":
            if isinstance(value, bool):
                raise wrong
            if isinstance(value, int):
                return value
            if isinstance(value, str) and _INTEGER.fullmatch(value.strip()):
                return int(value)
            raise wrong
        if type_name == "Float":
            if isinstance(value, bool):
                raise wrong
            if isinstance(value, int | float):
                return float(value)
            if isinstance(value, str):
                try:
                    return float(value)
                except ValueError:
                    raise wrong from None
            raise wrong
        if type_name == "Boolean":
            if isinstance(value, bool):
                return value
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            if isinstance(value, str) and value.strip().lower() in ("true", "false", "1", "0"):
                return value.strip().lower() in ("true", "1")
            raise wrong
        if type_name == "String":
            if isinstance(value, str):
                return value
            # The real server accepts JSON numbers where strings are expected.
            if isinstance(value, int | float) and not isinstance(value, bool):
                return str(value)
            raise wrong
        if type_name == "InputFile":
            if isinstance(value, UploadedFile):
                return value
            if isinstance(value, str) and value.startswith("attach://"):
                attached = files.get(value[len("attach://") :])
                if attached is not None:
                    return attached
            raise wrong
        if type_name.startswith("Array of "):
            item_type = type_name[len("Array of ") :]
            if isinstance(value, str) and top_level:
                value = _json(value, name)
            if not isinstance(value, list):
                raise wrong
            item = Field(name, (item_type,), True, "", None, False)
            return [self._value(v, item, files, context=name, top_level=False) for v in value]
        type_spec = self.types.get(type_name)
        if type_spec is None:
            return value  # a type the spec does not describe: nothing to check
        if isinstance(value, str) and top_level:
            value = _json(value, name)
        if not isinstance(value, dict):
            raise wrong
        return self._object(value, type_spec, files)

    def _object(
        self, value: dict[str, Any], type_spec: TypeSpec, files: dict[str, UploadedFile]
    ) -> dict[str, Any]:
        """Validate an object against its type (dispatching abstract types on their kind)."""
        if type_spec.subtypes:
            concrete = self._pick_subtype(value, type_spec)
            if concrete is None:
                return value
            type_spec = concrete
        prefix = _OBJECT_CONTEXT.get(type_spec.name)
        result = dict(value)
        try:
            for spec in type_spec.fields:
                if spec.name not in value or value[spec.name] is None:
                    if spec.required:
                        raise bad_request(f'Can\'t find field "{spec.name}"')
                    continue
                result[spec.name] = self._value(
                    value[spec.name], spec, files, context=type_spec.name, top_level=False
                )
            if type_spec.discriminator is not None:
                key, expected = type_spec.discriminator
                if result.get(key) != expected:
                    raise bad_request(f'Field "{key}" must be "{expected}"')
        except ApiError as error:
            if prefix is None or not error.description.startswith("Bad Request: Can't find"):
                raise
            raise bad_request(
                f"{prefix}: {error.description.removeprefix('Bad Request: ')}"
            ) from error
        _extra_checks(type_spec.name, result)
        return result

    def _pick_subtype(self, value: dict[str, Any], type_spec: TypeSpec) -> TypeSpec | None:
        """Choose the concrete subtype an object describes."""
        candidates = [self.types[s] for s in type_spec.subtypes if s in self.types]
        matching = [
            c
            for c in candidates
            if c.discriminator is not None and value.get(c.discriminator[0]) == c.discriminator[1]
        ]
        if not matching:
            keys = sorted({c.discriminator[0] for c in candidates if c.discriminator})
            if not keys:
                return None
            raise bad_request(
                f'can\'t parse {type_spec.name}: unsupported "{keys[0]}" value '
                f"{json.dumps(value.get(keys[0]))}"
            )
        for candidate in matching:
            if all(f.name in value for f in candidate.fields if f.required):
                return candidate
        return matching[0]


@cache
def _load_cached(path: Path) -> ApiSpec:
    return ApiSpec(json.loads(path.read_text(encoding="utf-8")))


def _json(value: str, name: str) -> Any:
    """Decode a JSON-serialised parameter."""
    try:
        return json.loads(value)
    except ValueError:
        if name == "reply_markup":
            raise bad_request("can't parse reply keyboard markup JSON object") from None
        raise bad_request(f"can't parse {name} JSON object") from None


def _missing(spec: Field) -> str:
    """Return Telegram's complaint about a missing required parameter."""
    if spec.name == "text":
        return "message text is empty"
    if "InputFile" in spec.types:
        return f"there is no {spec.name} in the request"
    return f"{spec.name} is empty"


def _extra_checks(type_name: str, value: dict[str, Any]) -> None:
    """Rules from the prose of the documentation that api.json cannot express."""
    if type_name == "InlineKeyboardButton":
        if not str(value.get("text", "")).strip():
            raise bad_request("BUTTON_TEXT_INVALID")
        actions = [k for k, v in value.items() if k not in _BUTTON_NON_ACTIONS and v is not None]
        if len(actions) != 1:
            if not actions:
                raise bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            raise bad_request(
                "can't parse inline keyboard button: exactly one of the fields "
                + ", ".join(sorted(actions))
                + " must be used"
            )
        if "url" in value and check_url(str(value["url"])) is None:
            raise bad_request("BUTTON_URL_INVALID")
    elif type_name == "BotCommand":
        if not _BOT_COMMAND.fullmatch(str(value.get("command", ""))):
            raise bad_request("BOT_COMMAND_INVALID")
        if not str(value.get("description", "")).strip():
            raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
