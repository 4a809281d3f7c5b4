"""Telegram's text formatting: HTML and MarkdownV2 parsing into plain text plus entities.

The HTML parser follows TDLib's ``parse_html`` (``td/telegram/MessageEntity.cpp``), the code the
Bot API server runs: the same tag set, the same entity decoding and the same error texts with
byte offsets into the UTF-8 source. Entity offsets and lengths are in UTF-16 code units, as the
Bot API returns them. In strict mode (the sandbox default) a bare ``&`` that does not start a
supported entity and a bare ``>`` are rejected too, as the Bot API documentation demands, while
the real server lets them through; that catches a forgotten ``html.escape`` before production.
"""

from __future__ import annotations

import re
import urllib.parse
from dataclasses import dataclass
from typing import Any, Final

Entity = dict[str, Any]

_SUPPORTED_TAGS: Final = frozenset(
    {
        "a",
        "b",
        "strong",
        "i",
        "em",
        "s",
        "strike",
        "del",
        "u",
        "ins",
        "tg-spoiler",
        "tg-emoji",
        "tg-time",
        "span",
        "pre",
        "code",
        "blockquote",
    }
)
_SIMPLE_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "u": "underline",
    "ins": "underline",
    "tg-spoiler": "spoiler",
}
# TDLib's sort order for entities that start and end at the same place (get_type_priority).
_TYPE_PRIORITY: Final = {
    "mention": 50,
    "hashtag": 50,
    "bot_command": 50,
    "url": 50,
    "email": 50,
    "bold": 90,
    "italic": 91,
    "code": 20,
    "pre": 11,
    "text_link": 49,
    "text_mention": 49,
    "cashtag": 50,
    "phone_number": 50,
    "underline": 92,
    "strikethrough": 93,
    "blockquote": 0,
    "expandable_blockquote": 1,
    "spoiler": 94,
    "custom_emoji": 99,
    "date_time": 95,
}
_CODE_TYPES: Final = frozenset({"code", "pre"})
ENTITY_TYPES: Final = frozenset(_TYPE_PRIORITY)
_DATE_TIME_FORMAT: Final = re.compile(r"r|w?[dD]?[tT]?")
_HOST: Final = re.compile(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*")
_SPACES: Final = frozenset(" \t\r\n\0\v")
_MDV2_RESERVED: Final = frozenset("_*[]()~`>#+-=|{}.!")


class EntityParseError(ValueError):
    """The text cannot be parsed; ``str(error)`` is TDLib's description."""


@dataclass(frozen=True, slots=True)
class ParsedText:
    """Plain text and its entities (UTF-16 offsets), as the Bot API returns them."""

    text: str
    entities: list[Entity]


def utf16_len(text: str) -> int:
    """Return the length of ``text`` in UTF-16 code units."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def _byte_offset(text: str, pos: int) -> int:
    """Return the UTF-8 byte offset of code point ``pos`` in ``text``."""
    return len(text[:pos].encode("utf-8", "surrogatepass"))


def _ascii_lower(text: str) -> str:
    """Lower-case ASCII letters only, like TDLib's ``to_lower``."""
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in text)


def _is_alnum(ch: str) -> bool:
    return ch.isascii() and ch.isalnum()


def _is_alpha(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _decode_entity(text: str, pos: int) -> tuple[str, int] | None:
    """Decode the HTML entity at ``pos``; return the character and the next position."""
    n = len(text)

    def at(j: int) -> str:
        return text[j] if j < n else "\0"

    end = pos + 1
    value = 0
    if at(pos + 1) == "#":
        end += 1
        if at(pos + 2) == "x":
            end += 1
            while at(end) in "0123456789abcdefABCDEF" and at(end) != "\0":
                value = value * 16 + int(at(end), 16)
                end += 1
                if value >= 0x10FFFF:
                    return None
        else:
            while "0" <= at(end) <= "9":
                value = value * 10 + int(at(end))
                end += 1
                if value >= 0x10FFFF:
                    return None
        # Surrogates cannot be encoded in UTF-8; TDLib refuses them as well.
        if value == 0 or end - pos >= 10 or 0xD800 <= value <= 0xDFFF:
            return None
        char = chr(value)
    else:
        while _is_alpha(at(end)):
            end += 1
        named = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}.get(text[pos + 1 : end])
        if named is None:
            return None
        char = named
    if at(end) == ";":
        end += 1
    return char, end


@dataclass(slots=True)
class _OpenTag:
    name: str
    argument: str
    utf16_offset: int
    result_pos: int
    extra: dict[str, Any]


def parse_html(text: str, *, strict: bool = True) -> ParsedText:
    """Parse Telegram HTML like TDLib does; raise EntityParseError with TDLib's wording."""
    n = len(text)

    def at(j: int) -> str:
        return text[j] if j < n else "\0"

    def fail(message: str) -> EntityParseError:
        return EntityParseError(message)

    result: list[str] = []
    entities: list[Entity] = []
    stack: list[_OpenTag] = []
    utf16 = 0
    i = 0
    while i < n:
        c = text[i]
        if c == "&":
            decoded = _decode_entity(text, i)
            if decoded is not None:
                char, i = decoded
                result.append(char)
                utf16 += 2 if ord(char) > 0xFFFF else 1
                continue
            if strict:
                match = re.match(r"&#?[A-Za-z0-9]*;?", text[i:])
                shown = match.group(0) if match else "&"
                raise fail(
                    f'Unsupported HTML entity "{shown}" at byte offset {_byte_offset(text, i)}'
                )
        if c != "<":
            if c == ">" and strict:
                raise fail(
                    f"Character '>' is reserved and must be escaped with \"&gt;\" "
                    f"at byte offset {_byte_offset(text, i)}"
                )
            result.append(c)
            utf16 += 2 if ord(c) > 0xFFFF else 1
            i += 1
            continue

        begin = i
        i += 1
        if at(i) != "/":
            while at(i) not in _SPACES and at(i) != ">":
                i += 1
            if at(i) == "\0":
                raise fail(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
            tag = _ascii_lower(text[begin + 1 : i])
            if tag not in _SUPPORTED_TAGS:
                raise fail(
                    f'Unsupported start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                )
            argument = ""
            extra: dict[str, Any] = {}
            while at(i) != ">":
                while at(i) != "\0" and at(i) in _SPACES:
                    i += 1
                if at(i) == ">":
                    break
                attr_begin = i
                while at(i) not in _SPACES and at(i) not in "=>":
                    i += 1
                attribute = text[attr_begin:i]
                if not attribute:
                    raise fail(
                        f'Empty attribute name in the tag "{tag}" at byte offset '
                        f"{_byte_offset(text, begin)}"
                    )
                while at(i) != "\0" and at(i) in _SPACES:
                    i += 1
                if at(i) != "=":
                    if tag == "blockquote" and attribute == "expandable":
                        argument = "1"
                        continue
                    raise fail(
                        f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                        f"at byte offset {_byte_offset(text, begin)}"
                    )
                i += 1
                while at(i) != "\0" and at(i) in _SPACES:
                    i += 1
                if i >= n:
                    raise fail(
                        f'Unclosed start tag "{tag}" at byte offset {_byte_offset(text, begin)}'
                    )
                if at(i) not in "'\"":
                    token_begin = i
                    while _is_alnum(at(i)) or at(i) in ".-":
                        i += 1
                    value = _ascii_lower(text[token_begin:i])
                    if at(i) not in _SPACES and at(i) != ">":
                        raise fail(
                            "Unexpected end of name token at byte offset "
                            f"{_byte_offset(text, token_begin)}"
                        )
                else:
                    quote = text[i]
                    i += 1
                    chars: list[str] = []
                    while i < n and text[i] != quote:
                        if text[i] == "&":
                            decoded = _decode_entity(text, i)
                            if decoded is not None:
                                chars.append(decoded[0])
                                i = decoded[1]
                                continue
                        chars.append(text[i])
                        i += 1
                    if at(i) == quote:
                        i += 1
                    value = "".join(chars)
                if i >= n:
                    raise fail(f"Unclosed start tag at byte offset {_byte_offset(text, begin)}")
                if tag == "a" and attribute == "href":
                    argument = value
                elif tag == "code" and attribute == "class" and value.startswith("language-"):
                    argument = value[len("language-") :]
                elif tag == "span" and attribute == "class" and value.startswith("tg-"):
                    argument = value[len("tg-") :]
                elif tag == "tg-emoji" and attribute == "emoji-id":
                    argument = value
                elif tag == "blockquote" and attribute == "expandable":
                    argument = "1"
                elif tag == "tg-time" and attribute in ("unix", "format"):
                    extra[attribute] = value
            if tag == "span" and argument != "spoiler":
                raise fail(
                    'Tag "span" must have class "tg-spoiler" at byte offset '
                    f"{_byte_offset(text, begin)}"
                )
            stack.append(_OpenTag(tag, argument, utf16, len(result), extra))
            i += 1
            continue

        # An end tag.
        if not stack:
            raise fail(f"Unexpected end tag at byte offset {_byte_offset(text, begin)}")
        while at(i) not in _SPACES and at(i) != ">":
            i += 1
        end_name = text[begin + 2 : i]
        while i < n and at(i) in _SPACES:
            i += 1
        if at(i) != ">":
            raise fail(f"Unclosed end tag at byte offset {_byte_offset(text, begin)}")
        i += 1
        top = stack.pop()
        if end_name and end_name != top.name:
            raise fail(
                f"Unmatched end tag at byte offset {_byte_offset(text, begin)}, "
                f'expected "</{top.name}>", found "</{end_name}>"'
            )
        if utf16 > top.utf16_offset:
            _close_entity(top, utf16, result, entities)
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    for entity in entities:
        if entity["type"] == "code":
            entity.pop("language", None)
    return ParsedText("".join(result), normalize_entities(entities))


def _close_entity(top: _OpenTag, utf16: int, result: list[str], entities: list[Entity]) -> None:
    """Append the entity for a closed tag, as TDLib's parse_html does."""
    offset = top.utf16_offset
    length = utf16 - offset
    tag = top.name
    if tag in _SIMPLE_TAGS:
        entities.append({"type": _SIMPLE_TAGS[tag], "offset": offset, "length": length})
    elif tag == "span":
        entities.append({"type": "spoiler", "offset": offset, "length": length})
    elif tag == "tg-emoji":
        if not top.argument.isdigit() or int(top.argument) == 0:
            raise EntityParseError("Invalid custom emoji identifier specified")
        entities.append(
            {
                "type": "custom_emoji",
                "offset": offset,
                "length": length,
                "custom_emoji_id": str(int(top.argument)),
            }
        )
    elif tag == "tg-time":
        unix = top.extra.get("unix", "")
        fmt = top.extra.get("format", "")
        if not unix.isdigit():
            raise EntityParseError("Invalid Unix time specified")
        if not _DATE_TIME_FORMAT.fullmatch(fmt):
            raise EntityParseError("Invalid date and time format specified")
        entity: Entity = {"type": "date_time", "offset": offset, "length": length}
        entity["unix_time"] = int(unix)
        if fmt:
            entity["date_time_format"] = fmt
        entities.append(entity)
    elif tag == "a":
        url = top.argument or "".join(result[top.result_pos :])
        user_id = _link_user_id(url)
        if user_id is not None:
            entities.append(
                {"type": "text_mention", "offset": offset, "length": length, "user_id": user_id}
            )
        else:
            checked = check_url(url)
            if checked is not None:
                entities.append(
                    {"type": "text_link", "offset": offset, "length": length, "url": checked}
                )
    elif tag == "pre":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "code"
            and last["offset"] == offset
            and last["length"] == length
            and last.get("language")
        ):
            last["type"] = "pre"
        else:
            entities.append({"type": "pre", "offset": offset, "length": length})
    elif tag == "code":
        last = entities[-1] if entities else None
        if (
            last is not None
            and last["type"] == "pre"
            and last["offset"] == offset
            and last["length"] == length
            and top.argument
        ):
            last["language"] = top.argument
        else:
            code: Entity = {"type": "code", "offset": offset, "length": length}
            if top.argument:
                code["language"] = top.argument
            entities.append(code)
    elif tag == "blockquote":
        kind = "expandable_blockquote" if top.argument == "1" else "blockquote"
        entities.append({"type": kind, "offset": offset, "length": length})


def _link_user_id(url: str) -> int | None:
    """Return the user id of a ``tg://user?id=`` link, else None."""
    match = re.fullmatch(r"tg:(?://)?user\?id=(\d{1,19})", url.strip(), flags=re.IGNORECASE)
    return int(match.group(1)) if match else None


def check_url(url: str) -> str | None:
    """Validate and normalise a link like Telegram; None when it is not a valid link."""
    url = url.strip()
    if not url or any(ch in url for ch in " \t\n\r\0"):
        return None
    lowered = url.lower()
    if lowered.startswith(("tg://", "ton://")):
        return url if len(url) > len("tg://") else None
    if "://" not in url:
        url = "http://" + url
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = (parts.hostname or "").rstrip(".")
    try:
        ascii_host = host.encode("idna").decode("ascii").lower() if host else ""
    except UnicodeError:
        return None
    if not ascii_host or not _HOST.fullmatch(ascii_host):
        return None
    netloc = parts.netloc.rsplit("@", 1)[-1]
    if port is None and ":" in netloc:
        return None
    path = parts.path or "/"
    rebuilt = f"{parts.scheme.lower()}://{netloc}{path}"
    if parts.query:
        rebuilt += "?" + parts.query
    if parts.fragment:
        rebuilt += "#" + parts.fragment
    return rebuilt


def normalize_entities(entities: list[Entity]) -> list[Entity]:
    """Sort entities like TDLib and drop empty ones and those nested inside code or pre."""
    kept = [e for e in entities if e["length"] > 0]
    kept.sort(key=lambda e: (e["offset"], -e["length"], _TYPE_PRIORITY.get(e["type"], 50)))
    result: list[Entity] = []
    code_end = -1
    for entity in kept:
        if entity["offset"] < code_end:
            # Telegram removes entities inside code and pre blocks.
            continue
        result.append(entity)
        if entity["type"] in _CODE_TYPES:
            code_end = entity["offset"] + entity["length"]
    return result


def finalize_text(parsed: ParsedText) -> ParsedText:
    """Trim the text like Telegram does before sending and clip the entities accordingly."""
    text = parsed.text
    entities = [dict(e) for e in parsed.entities]
    # Right trim: whitespace at the end goes away, entities are clipped to the new end.
    end = len(text)
    while end > 0 and text[end - 1] in " \t\r\n\v\f":
        end -= 1
    text = text[:end]
    total = utf16_len(text)
    for entity in entities:
        entity["length"] = max(
            0, min(entity["offset"] + entity["length"], total) - entity["offset"]
        )
    # Left trim: only spaces and newlines that precede the first entity.
    first_entity = min((e["offset"] for e in entities if e["length"] > 0), default=total)
    start = 0
    while start < min(len(text), first_entity) and text[start] in " \n":
        start += 1
    text = text[start:]
    for entity in entities:
        entity["offset"] -= start
    return ParsedText(text, normalize_entities([e for e in entities if e["offset"] >= 0]))


def entities_from_param(text: str, raw: list[dict[str, Any]]) -> list[Entity]:
    """Validate an ``entities`` parameter against ``text`` and return the clipped entities."""
    total = utf16_len(text)
    entities: list[Entity] = []
    for item in raw:
        kind = item.get("type")
        offset = item.get("offset")
        length = item.get("length")
        if kind not in ENTITY_TYPES:
            raise EntityParseError(f'Unsupported entity type "{kind}"')
        if not isinstance(offset, int) or not isinstance(length, int) or offset < 0 or length < 0:
            raise EntityParseError("Wrong entity offset or length specified")
        entity: Entity = {"type": kind, "offset": offset, "length": length}
        if kind == "text_link":
            url = check_url(str(item.get("url", "")))
            if url is None:
                raise EntityParseError("Wrong HTTP URL specified")
            entity["url"] = url
        elif kind == "pre" and item.get("language"):
            entity["language"] = str(item["language"])
        elif kind == "custom_emoji":
            emoji_id = str(item.get("custom_emoji_id", ""))
            if not emoji_id.isdigit():
                raise EntityParseError("Invalid custom emoji identifier specified")
            entity["custom_emoji_id"] = emoji_id
        elif kind == "text_mention":
            user = item.get("user")
            if not isinstance(user, dict) or not isinstance(user.get("id"), int):
                raise EntityParseError("Wrong user identifier specified")
            entity["user_id"] = user["id"]
        elif kind == "date_time":
            if not isinstance(item.get("unix_time"), int):
                raise EntityParseError("Invalid Unix time specified")
            entity["unix_time"] = item["unix_time"]
            fmt = item.get("date_time_format")
            if fmt:
                if not _DATE_TIME_FORMAT.fullmatch(str(fmt)):
                    raise EntityParseError("Invalid date and time format specified")
                entity["date_time_format"] = fmt
        if offset >= total:
            continue
        entity["length"] = min(offset + length, total) - offset
        entities.append(entity)
    return normalize_entities(entities)


def parse_markdown_v2(text: str) -> ParsedText:
    """Parse MarkdownV2 like TDLib (without automatic blockquote merging subtleties)."""
    n = len(text)

    def at(j: int) -> str:
        return text[j] if j < n else "\0"

    result: list[str] = []
    entities: list[Entity] = []
    # (type, argument, utf16 offset, byte offset of the markup, position in result)
    stack: list[tuple[str, str, int, int, int]] = []
    utf16 = 0
    i = 0
    line_start = True
    quote_start: int | None = None

    def push(ch: str) -> None:
        nonlocal utf16
        result.append(ch)
        utf16 += 2 if ord(ch) > 0xFFFF else 1

    while i < n:
        c = text[i]
        in_code = bool(stack) and stack[-1][0] in ("code", "pre")
        if line_start and c == ">" and not in_code:
            if quote_start is None:
                quote_start = utf16
            line_start = False
            i += 1
            continue
        if line_start and quote_start is not None and not stack:
            entities.append(
                {"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start - 1}
            )
            quote_start = None
        line_start = False
        if c == "\\" and "\0" < at(i + 1) <= "~":
            push(text[i + 1])
            i += 2
            continue
        if in_code:
            kind = stack[-1][0]
            closing = c == "`" and (kind == "code" or text[i : i + 3] == "```")
            if not closing:
                push(c)
                line_start = c == "\n"
                i += 1
                continue
        if c not in _MDV2_RESERVED:
            push(c)
            line_start = c == "\n"
            i += 1
            continue
        top = stack[-1][0] if stack else ""
        is_end = (
            (top == "bold" and c == "*")
            or (top == "italic" and c == "_" and at(i + 1) != "_")
            or (top == "underline" and c == "_" and at(i + 1) == "_")
            or (top == "strikethrough" and c == "~")
            or (top == "spoiler" and c == "|" and at(i + 1) == "|")
            or (top == "code" and c == "`")
            or (top == "pre" and text[i : i + 3] == "```")
            or (top in ("text_link", "custom_emoji") and c == "]")
        )
        if not is_end:
            begin = _byte_offset(text, i)
            argument = ""
            if c == "_" and at(i + 1) == "_":
                kind, i = "underline", i + 2
            elif c == "_":
                kind, i = "italic", i + 1
            elif c == "*":
                kind, i = "bold", i + 1
            elif c == "~":
                kind, i = "strikethrough", i + 1
            elif c == "|" and at(i + 1) == "|":
                kind, i = "spoiler", i + 2
            elif c == "[":
                kind, i = "text_link", i + 1
            elif c == "!" and at(i + 1) == "[":
                kind, i = "custom_emoji", i + 2
            elif c == "`" and text[i : i + 3] == "```":
                i += 3
                lang_end = i
                while lang_end < n and text[lang_end] not in " \n`":
                    lang_end += 1
                if lang_end < n and text[lang_end] == "\n":
                    argument = text[i:lang_end]
                    i = lang_end + 1
                kind = "pre"
            elif c == "`":
                kind, i = "code", i + 1
            else:
                raise EntityParseError(
                    f"Character '{c}' is reserved and must be escaped with the preceding '\\'"
                )
            stack.append((kind, argument, utf16, begin, len(result)))
            continue
        kind, argument, offset, _begin, result_pos = stack.pop()
        i += {"underline": 2, "spoiler": 2, "pre": 3}.get(kind, 1)
        entity: Entity = {"type": kind, "offset": offset, "length": utf16 - offset}
        if kind in ("text_link", "custom_emoji"):
            if at(i) != "(":
                if kind == "custom_emoji":
                    raise EntityParseError("Custom emoji entity must contain a tg://emoji URL")
                url = "".join(result[result_pos:])
            else:
                close = i + 1
                chars: list[str] = []
                while close < n and text[close] != ")":
                    if text[close] == "\\" and close + 1 < n:
                        close += 1
                    chars.append(text[close])
                    close += 1
                if close >= n:
                    raise EntityParseError(
                        f"Can't find end of a URL at byte offset {_byte_offset(text, i)}"
                    )
                url = "".join(chars)
                i = close + 1
            if kind == "custom_emoji":
                match = re.fullmatch(r"tg://emoji\?id=(\d+)", url)
                if match is None:
                    raise EntityParseError("Custom emoji URL must have an emoji identifier")
                entity["custom_emoji_id"] = match.group(1)
            else:
                user_id = _link_user_id(url)
                checked = check_url(url)
                if user_id is not None:
                    entity["type"] = "text_mention"
                    entity["user_id"] = user_id
                elif checked is None:
                    continue
                else:
                    entity["url"] = checked
        elif kind == "pre" and argument:
            entity["language"] = argument
        entities.append(entity)
    if stack:
        kind, _argument, _offset, begin, _pos = stack[-1]
        raise EntityParseError(
            f"Can't find end of {_MDV2_NAMES[kind]} entity at byte offset {begin}"
        )
    if quote_start is not None:
        entities.append(
            {"type": "blockquote", "offset": quote_start, "length": utf16 - quote_start}
        )
    return ParsedText("".join(result), normalize_entities(entities))


_MDV2_NAMES: Final = {
    "bold": "Bold",
    "italic": "Italic",
    "underline": "Underline",
    "strikethrough": "Strikethrough",
    "spoiler": "Spoiler",
    "code": "Code",
    "pre": "Pre",
    "text_link": "TextUrl",
    "custom_emoji": "CustomEmoji",
}


def bot_command_entities(text: str) -> list[Entity]:
    """Return the bot_command entities Telegram attaches to a user's message."""
    entities: list[Entity] = []
    for match in re.finditer(r"(?<![\w/])/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?", text):
        prefix = text[: match.start()]
        entities.append(
            {
                "type": "bot_command",
                "offset": utf16_len(prefix),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities


def mention_entities(text: str) -> list[Entity]:
    """Return the mention entities (``@username``) Telegram attaches to a user's message."""
    entities: list[Entity] = []
    for match in re.finditer(r"(?<![\w/@])@[A-Za-z0-9_]{5,32}\b", text):
        entities.append(
            {
                "type": "mention",
                "offset": utf16_len(text[: match.start()]),
                "length": utf16_len(match.group(0)),
            }
        )
    return entities
