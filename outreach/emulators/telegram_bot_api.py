"""A local Telegram Bot API server, for running the real python-telegram-bot without Telegram.

The bot talks to it over HTTP exactly as it talks to ``api.telegram.org``
(``ApplicationBuilder().base_url(emulator.base_url)``), so tests, benchmarks and a
no-credentials sandbox exercise the real library, its request encoding and its error
mapping. The people on the other side are :class:`EmulatedUser` objects: they send
messages and press buttons, and see what the bot sent them.

What is emulated is what this project uses: private chats, text messages with inline
keyboards, edits, documents, polls, commands, webhooks and long polling, and Telegram's
error answers (validation, blocked users, flood limits) so that error handling can be
tested. Everything lives in memory; each request costs O(1) apart from its own payload.

Not emulated: groups and channels, inline mode, file downloads (``/file/bot...``),
MarkdownV2 parsing (text is kept as sent; HTML is parsed), ``allowed_updates`` filtering,
and webhook retries (a failed delivery is reported, not retried; updates queued before
``setWebhook`` stay queued).
"""

from __future__ import annotations

import asyncio
import bisect
import functools
import itertools
import json
import logging
import math
import random
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, NamedTuple
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from outreach.emulators.local_server import Inbox, LocalServer, TokenBucket

logger = logging.getLogger(__name__)

__all__ = ["EmulatedUser", "RecordedRequest", "TelegramBotApiEmulator", "UploadedFile"]

JsonDict = dict[str, Any]

MAX_MESSAGE_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_POLL_QUESTION_LENGTH = 300
MAX_POLL_OPTION_LENGTH = 100
MAX_POLL_OPTIONS = 12
MAX_COMMANDS = 100
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
SECRET_TOKEN_HEADER = "X-Telegram-Bot-Api-Secret-Token"
WEBHOOK_ANSWER_TOKEN = "<webhook answer>"
"""Recorded as the token of a method call made in a webhook's HTTP answer."""

_TOKEN_RE = re.compile(r"\d+:[A-Za-z0-9_-]{20,}")
_SECRET_TOKEN_RE = re.compile(r"[A-Za-z0-9_-]*")
_BOT_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_COMMAND_IN_TEXT_RE = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,32})?")

# Parameters that are strings in the Bot API. PTB (like most clients) sends form fields
# with strings as they are and everything else JSON-encoded, so a field's type cannot be
# told from its text: "42" is a number for chat_id but stays "42" for text.
_STRING_FIELDS = frozenset(
    {
        "action",
        "address",
        "animation",
        "audio",
        "business_connection_id",
        "callback_query_id",
        "caption",
        "currency",
        "custom_emoji_id",
        "description",
        "document",
        "emoji",
        "explanation",
        "explanation_parse_mode",
        "file_id",
        "first_name",
        "inline_message_id",
        "ip_address",
        "language_code",
        "last_name",
        "message_effect_id",
        "name",
        "parse_mode",
        "payload",
        "phone_number",
        "photo",
        "question",
        "question_parse_mode",
        "description_parse_mode",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "thumbnail",
        "title",
        "url",
        "vcard",
        "video",
        "video_note",
        "voice",
    }
)
_JSON_START = frozenset('{["-0123456789tfn')

_INLINE_BUTTON_ACTIONS = (
    "callback_data",
    "url",
    "login_url",
    "web_app",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_CHAT_ACTIONS = frozenset(
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

_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup"
    " are exactly the same as a current content and reply markup of the message"
)
_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active;"
    " use deleteWebhook to delete the webhook first"
)
_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request;"
    " make sure that only one bot instance is running"
)
_QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

_dumps = functools.partial(json.dumps, ensure_ascii=False, separators=(",", ":"))


class _ApiError(Exception):
    """An error answer, raised by a method handler and sent as Telegram formats it."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def response(self) -> web.Response:
        body: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return web.json_response(body, status=self.status, dumps=_dumps)


def _bad_request(reason: str) -> _ApiError:
    return _ApiError(400, f"Bad Request: {reason}")


def _too_many_requests(retry_after: int) -> _ApiError:
    return _ApiError(429, f"Too Many Requests: retry after {retry_after}", retry_after)


@dataclass(slots=True)
class UploadedFile:
    """A file received in a multipart request (Telegram keeps it; so do we, for assertions)."""

    file_name: str
    content_type: str
    size: int
    content: bytes = field(repr=False)


@dataclass(slots=True)
class RecordedRequest:
    """One Bot API call as the emulator received it, with its parameters decoded."""

    method: str
    params: dict[str, Any]
    token: str


class _Method(NamedTuple):
    name: str
    """Telegram's spelling, e.g. ``sendMessage`` (requests may use any case)."""
    handler: Callable[[JsonDict], Awaitable[Any]]
    is_send: bool
    """A ``send*`` method: subject to ``fail_rate``. Flood limits are taken by the
    handlers that create messages, after validation, since refused calls send nothing."""


def _utf16_length(text: str) -> int:
    """Telegram measures text in UTF-16 code units: an emoji outside the BMP counts twice."""
    if text.isascii():
        return len(text)
    return len(text.encode("utf-16-le")) // 2


def _decode_field(name: str, value: str) -> Any:
    """Undo a client's JSON encoding of a non-string field (see ``_STRING_FIELDS``)."""
    if name in _STRING_FIELDS or not value or value[0] not in _JSON_START:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _as_int(params: JsonDict, name: str) -> int | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise _bad_request(f'wrong parameter "{name}" specified')
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            pass
    raise _bad_request(f'wrong parameter "{name}" specified')


def _as_bool(params: JsonDict, name: str, default: bool = False) -> bool:
    value = params.get(name)
    if value is None:
        return default
    if isinstance(value, str):
        return value.strip().lower() in ("true", "1")
    return bool(value)


def _as_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _bad_request("wrong type of a text parameter")


# Telegram decodes numeric character references and only these named ones; any other
# "&" is literal text (HTMLParser would decode every HTML5 entity, so those are escaped).
_HTML_UNSUPPORTED_AMPERSAND = re.compile(
    r"&(?!(?:lt|gt|amp|quot)(?:;|(?![A-Za-z]))|#[0-9]+;|#[xX][0-9a-fA-F]+;)"
)
_HTML_ENTITY_TYPES = {
    "a": "text_link",
    "b": "bold",
    "blockquote": "blockquote",
    "code": "code",
    "del": "strikethrough",
    "em": "italic",
    "i": "italic",
    "ins": "underline",
    "pre": "pre",
    "s": "strikethrough",
    "span": "spoiler",
    "strike": "strikethrough",
    "strong": "bold",
    "tg-emoji": "custom_emoji",
    "tg-spoiler": "spoiler",
    "u": "underline",
}


class _TelegramHtml(HTMLParser):
    """``parse_mode=HTML`` as Telegram applies it: the visible text plus entities.

    Offsets are UTF-16 code units, like Telegram's. Unsupported or unbalanced tags are
    refused the way Telegram refuses them, which catches unescaped ``<`` in bot texts.
    """

    def __init__(self, source: str) -> None:
        super().__init__(convert_charrefs=True)
        self._source = source
        self._escaped = source
        self._escaped_at: list[int] = []
        self._parts: list[str] = []
        self._length = 0
        self._open: list[tuple[str, JsonDict | None]] = []
        self._entities: list[JsonDict] = []

    @classmethod
    def parse(cls, source: str) -> tuple[str, list[JsonDict]]:
        parser = cls(source)
        parser._escaped = _HTML_UNSUPPORTED_AMPERSAND.sub(parser._escape_ampersand, source)
        parser.feed(parser._escaped)
        parser.close()
        if parser._open:
            tag = parser._open[-1][0]
            raise _bad_request(
                f"can't parse entities: Can't find end tag corresponding to start tag \"{tag}\""
            )
        parser._entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
        return "".join(parser._parts), parser._entities

    def _escape_ampersand(self, match: re.Match[str]) -> str:
        # Kept as positions in the escaped text, to map parser positions back.
        self._escaped_at.append(match.start() + 4 * len(self._escaped_at))
        return "&amp;"

    def _byte_offset(self) -> int:
        """Where the tag being handled starts, in UTF-8 bytes of the text as sent."""
        line, column = self.getpos()
        lines = self._escaped.splitlines(keepends=True)
        index = sum(len(text) for text in lines[: line - 1]) + column
        index -= 4 * bisect.bisect_left(self._escaped_at, index)
        return len(self._source[:index].encode())

    def _error(self, reason: str) -> _ApiError:
        return _bad_request(f"can't parse entities: {reason} at byte offset {self._byte_offset()}")

    def handle_data(self, data: str) -> None:
        self._parts.append(data)
        self._length += _utf16_length(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        kind = _HTML_ENTITY_TYPES.get(tag)
        attributes = dict(attrs)
        if kind is None or (tag == "span" and attributes.get("class") != "tg-spoiler"):
            raise self._error(f'Unsupported start tag "{tag}"')
        entity: JsonDict = {"type": kind, "offset": self._length}
        if tag == "a":
            href = attributes.get("href")
            if not href:  # a link without a target is plain text
                self._open.append((tag, None))
                return
            entity["url"] = href
        elif tag == "tg-emoji":
            emoji_id = attributes.get("emoji-id")
            if not emoji_id:
                raise self._error('Custom emoji entity must have "emoji-id" attribute')
            entity["custom_emoji_id"] = emoji_id
        elif tag == "blockquote" and "expandable" in attributes:
            entity["type"] = "expandable_blockquote"
        elif tag == "code" and self._open and self._open[-1][0] == "pre":
            pre = self._open[-1][1]
            language = attributes.get("class") or ""
            if pre is not None and language.startswith("language-"):
                pre["language"] = language.removeprefix("language-")
                self._open.append((tag, None))  # <pre><code class=...> is one entity
                return
        self._open.append((tag, entity))

    def handle_endtag(self, tag: str) -> None:
        if not self._open:
            raise self._error(f'Unexpected end tag "{tag}"')
        open_tag, entity = self._open.pop()
        if open_tag != tag:
            raise _bad_request(
                f"can't parse entities: Unmatched end tag at byte offset {self._byte_offset()},"
                f' expected "</{open_tag}>", found "</{tag}>"'
            )
        if entity is not None:
            entity["length"] = self._length - entity["offset"]
            if entity["length"] > 0:
                self._entities.append(entity)


def _inline_buttons(message: JsonDict) -> Iterable[JsonDict]:
    markup = message.get("reply_markup") or {}
    return itertools.chain.from_iterable(markup.get("inline_keyboard") or ())


def _parse_reply_markup(raw: Any) -> JsonDict | None:
    """Validate ``reply_markup`` loosely; return it if it is an inline keyboard.

    Only inline keyboards are part of a message as Telegram returns it; reply keyboards
    and keyboard removal are validated and then only visible in the recorded request.
    """
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad_request("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in raw:
        rows = raw["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('field "inline_keyboard" must be an Array of Arrays')
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise _bad_request(
                    'can\'t parse inline keyboard button: Field "text" must be of type String'
                )
            if not any(action in button for action in _INLINE_BUTTON_ACTIONS):
                raise _bad_request(
                    "can't parse inline keyboard button: "
                    "Text buttons are unallowed in the inline keyboard"
                )
            if "callback_data" in button:
                data = button["callback_data"]
                if (
                    not isinstance(data, str)
                    or not data
                    or len(data.encode()) > MAX_CALLBACK_DATA_BYTES
                ):
                    raise _bad_request("BUTTON_DATA_INVALID")
        return raw if any(rows) else None
    if "keyboard" in raw:
        rows = raw["keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise _bad_request('field "keyboard" must be an Array of Arrays')
        for button in itertools.chain.from_iterable(rows):
            if not isinstance(button, str) and not (
                isinstance(button, dict) and isinstance(button.get("text"), str)
            ):
                raise _bad_request(
                    'can\'t parse keyboard button: Field "text" must be of type String'
                )
        return None
    if raw.get("remove_keyboard") is True or raw.get("force_reply") is True:
        return None
    raise _bad_request("can't parse reply keyboard markup JSON object")


class EmulatedUser:
    """A person in a private chat with the bot (the chat id is the user id)."""

    def __init__(
        self,
        emulator: TelegramBotApiEmulator,
        user_id: int,
        *,
        first_name: str,
        language_code: str | None,
        username: str | None,
    ) -> None:
        self._emulator = emulator
        self.id = user_id
        self.first_name = first_name
        self.language_code = language_code
        self.username = username
        self.messages: list[JsonDict] = []
        """Every message the bot sent to this chat, in order; edits are applied in place."""
        self.sent: list[JsonDict] = []
        """Every message this person sent to the bot (texts, commands, shared contacts)."""
        self.reply_keyboard: JsonDict | None = None
        """The reply keyboard the bot last showed (e.g. a "share contact" button), if any."""
        self.last_status: int | None = None
        """HTTP status the webhook answered for this user's latest update."""
        self._last_message_id = 0
        self._inbox: Inbox[JsonDict] = Inbox()

    def __repr__(self) -> str:
        return f"EmulatedUser(id={self.id}, first_name={self.first_name!r})"

    @property
    def last_message(self) -> JsonDict | None:
        return self.messages[-1] if self.messages else None

    @property
    def as_sender(self) -> JsonDict:
        """The Telegram ``User`` object for this person."""
        sender: JsonDict = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.username is not None:
            sender["username"] = self.username
        if self.language_code is not None:
            sender["language_code"] = self.language_code
        return sender

    @property
    def chat(self) -> JsonDict:
        """The Telegram ``Chat`` object of the private chat with the bot."""
        chat: JsonDict = {"id": self.id, "type": "private", "first_name": self.first_name}
        if self.username is not None:
            chat["username"] = self.username
        return chat

    async def send(self, text: str) -> JsonDict:
        """Send a text message; a leading ``/command`` gets its ``bot_command`` entity."""
        message = self._new_message(text=text)
        command = _COMMAND_IN_TEXT_RE.match(text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        self.sent.append(message)
        return await self._emulator._deliver_from(self, {"message": message})

    async def share_contact(self, phone_number: str) -> JsonDict:
        """Share this user's own contact, as the "request contact" keyboard button does."""
        contact = {"phone_number": phone_number, "first_name": self.first_name, "user_id": self.id}
        message = self._new_message(contact=contact)
        self.sent.append(message)
        self.reply_keyboard = None  # a one-time keyboard goes away once used
        return await self._emulator._deliver_from(self, {"message": message})

    async def press(self, button: str, *, message: JsonDict | None = None) -> JsonDict:
        """Press the inline button whose text or callback data is ``button``.

        Looks in ``message`` if given, else in the newest bot message with such a button.
        """
        candidates = [message] if message is not None else reversed(self.messages)
        for candidate in candidates:
            for inline_button in _inline_buttons(candidate):
                if button not in (inline_button.get("text"), inline_button.get("callback_data")):
                    continue
                if "callback_data" not in inline_button:
                    raise LookupError(
                        f"Button {button!r} has no callback_data; pressing it sends no update"
                    )
                # The message as it is now (the caller may hold an older copy), frozen.
                key = (self.id, candidate["message_id"])
                current = self._emulator._messages.get(key, candidate)
                callback_query = {
                    "id": self._emulator._new_callback_query_id(),
                    "from": self.as_sender,
                    "message": dict(current),
                    "chat_instance": self._emulator._chat_instance(self.id),
                    "data": inline_button["callback_data"],
                }
                return await self._emulator._deliver_from(self, {"callback_query": callback_query})
        shown = message if message is not None else self._newest_with_buttons()
        available = self.buttons(shown) if shown is not None else []
        raise LookupError(
            f"No inline button {button!r} for user {self.id}; buttons available: {available}"
        )

    async def next_message(self, timeout: float = 5.0) -> JsonDict:  # noqa: ASYNC109
        """The next bot message not yet returned here, waiting up to ``timeout`` seconds.

        Edits do not count as new messages: read them from :attr:`messages`.
        """

        def describe() -> str:
            last = self.last_message
            seen = f"its last message was {last.get('text')!r}" if last else "it sent none yet"
            return (
                f"The bot sent user {self.id} no new message within {timeout} s"
                f" ({len(self.messages)} messages in the chat; {seen})"
            )

        return await self._inbox.next(timeout, describe)

    def buttons(self, message: JsonDict | None = None) -> list[str]:
        """Texts of the inline buttons of ``message`` (default: the last bot message)."""
        target = message if message is not None else self.last_message
        if target is None:
            return []
        return [inline_button["text"] for inline_button in _inline_buttons(target)]

    def _newest_with_buttons(self) -> JsonDict | None:
        return next((m for m in reversed(self.messages) if m.get("reply_markup")), None)

    def _next_message_id(self) -> int:
        self._last_message_id += 1
        return self._last_message_id

    def _new_message(self, **content: Any) -> JsonDict:
        return {
            "message_id": self._next_message_id(),
            "from": self.as_sender,
            "chat": self.chat,
            "date": int(time.time()),
            **content,
        }

    def _receive(self, message: JsonDict) -> None:
        self.messages.append(message)
        self._inbox.put(message)


class TelegramBotApiEmulator(LocalServer):
    """An aiohttp server speaking the Telegram Bot API, with people to talk to.

    Rates are messages per second for the message-sending methods; ``None`` turns a limit
    off. Per chat, ``burst`` messages may go at once, refilled at ``per_chat_rate``;
    overall, ``max(1, global_rate)`` at once, refilled at ``global_rate``. Over a limit
    the answer is 429 with ``retry_after``, as from Telegram.
    """

    name = "Telegram Bot API emulator"

    def __init__(
        self,
        *,
        bot_username: str = "sdg_outreach_bot",
        bot_id: int = 7_000_000_001,
        global_rate: float | None = 30.0,
        per_chat_rate: float | None = 1.0,
        burst: int = 3,
        bot_first_name: str = "SDG Outreach",
        seed: int = 0,
    ) -> None:
        for name, rate in (("global_rate", global_rate), ("per_chat_rate", per_chat_rate)):
            if rate is not None and rate <= 0:
                raise ValueError(f"{name} must be positive or None, not {rate}")
        if burst < 1:
            raise ValueError(f"burst must be at least 1, not {burst}")
        self.bot_username = bot_username
        self.bot_id = bot_id
        self.bot_first_name = bot_first_name
        self.global_rate = global_rate
        self.per_chat_rate = per_chat_rate
        self.burst = burst

        self.requests: list[RecordedRequest] = []
        self.polls: dict[str, JsonDict] = {}
        """Polls the bot sent, by poll id."""
        self.callback_answers: dict[str, JsonDict] = {}
        """answerCallbackQuery parameters, by callback query id."""
        self.fail_rate = 0.0
        """Fraction of ``send*`` calls answered 500, drawn from a seeded generator."""

        self.webhook_url: str | None = None
        self._webhook_secret: str | None = None
        self._webhook_max_connections = 40
        self._webhook_slots = asyncio.Semaphore(self._webhook_max_connections)
        self._allowed_updates: list[str] | None = None
        self._webhook_last_error: tuple[int, str] | None = None

        self._users: dict[int, EmulatedUser] = {}
        self._messages: dict[tuple[int, int], JsonDict] = {}
        self._blocked: set[int] = set()
        self._deactivated: set[int] = set()
        self._injected: dict[str, deque[tuple[int, str, int | None]]] = {}
        self._random = random.Random(seed)
        capacity = max(1.0, global_rate or 1.0)
        self._global_bucket = TokenBucket(capacity, capacity, capacity, time.monotonic())
        self._chat_buckets: dict[int, TokenBucket] = {}
        self._commands: dict[tuple[str, str], list[JsonDict]] = {}
        self._descriptions: dict[tuple[str, str], str] = {}
        self._menu_buttons: dict[int | None, JsonDict] = {}
        self._unanswered_queries: set[str] = set()
        self._counters = itertools.count(1)
        self._last_update_id = 0

        self._pending: deque[JsonDict] = deque()
        self._handed_out = 0
        self._poll_generation = 0
        self._updates_event = asyncio.Event()
        self._closing = False

        self._methods: dict[str, _Method] = {}
        for name, handler in (
            ("getMe", self._get_me),
            ("getUpdates", self._get_updates),
            ("setWebhook", self._set_webhook),
            ("deleteWebhook", self._delete_webhook),
            ("getWebhookInfo", self._get_webhook_info),
            ("sendMessage", self._send_message),
            ("sendDocument", self._send_document),
            ("sendPoll", self._send_poll),
            ("sendChatAction", self._send_chat_action),
            ("editMessageText", self._edit_message_text),
            ("editMessageReplyMarkup", self._edit_message_reply_markup),
            ("deleteMessage", self._delete_message),
            ("answerCallbackQuery", self._answer_callback_query),
            ("setMyCommands", self._set_my_commands),
            ("getMyCommands", self._get_my_commands),
            ("deleteMyCommands", self._delete_my_commands),
            ("setMyDescription", self._set_my_description),
            ("getMyDescription", self._get_my_description),
            ("setMyShortDescription", self._set_my_short_description),
            ("getMyShortDescription", self._get_my_short_description),
            ("setChatMenuButton", self._set_chat_menu_button),
            ("getChatMenuButton", self._get_chat_menu_button),
            ("close", self._close),
            ("logOut", self._log_out),
        ):
            self._methods[name.lower()] = _Method(name, handler, name.startswith("send"))

        super().__init__(web.Application(client_max_size=MAX_UPLOAD_BYTES))
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)

    # Lifecycle

    def _before_start(self) -> None:
        self._closing = False

    async def _before_stop(self) -> None:
        """Long polls still waiting are answered at once."""
        self._closing = True
        self._wake_pollers()

    @property
    def base_url(self) -> str:
        """What to give PTB as ``base_url``: it appends the token and the method."""
        return f"{self.url}/bot"

    # The people

    def user(
        self,
        user_id: int,
        *,
        first_name: str = "Test",
        language_code: str | None = "en",
        username: str | None = None,
    ) -> EmulatedUser:
        """The person with this id, created on first use (later calls return the same one)."""
        existing = self._users.get(user_id)
        if existing is not None:
            return existing
        created = EmulatedUser(
            self, user_id, first_name=first_name, language_code=language_code, username=username
        )
        self._users[user_id] = created
        return created

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sends to them fail with 403."""
        self._blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        self._blocked.discard(chat_id)

    def deactivate(self, chat_id: int) -> None:
        """The user deletes their account: sends to them fail with 403."""
        self._deactivated.add(chat_id)

    # Fault injection and inspection

    def fail_next(
        self,
        method: str,
        status: int = 500,
        description: str | None = None,
        retry_after: int | None = None,
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with this error instead."""
        if status == 429 and retry_after is None:
            retry_after = 1
        if description is None:
            if status == 429:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = _DEFAULT_DESCRIPTIONS.get(status, "Internal Server Error")
        failure = (status, description, retry_after)
        self._injected.setdefault(method.lower(), deque()).extend([failure] * count)

    def calls(self, method: str) -> list[RecordedRequest]:
        """The recorded calls of one method (name case-insensitive)."""
        known = self._methods.get(method.lower())
        name = known.name if known else method
        return [request for request in self.requests if request.method == name]

    def clear_requests(self) -> None:
        self.requests.clear()

    # Updates

    async def deliver(self, update: JsonDict) -> int | None:
        """Hand an update to the bot, as Telegram would.

        With a webhook set, POST it there and return the HTTP status; otherwise queue it
        for getUpdates and return None. Redelivering the same update is allowed, which is
        how tests check that the bot handles duplicates.
        """
        url = self.webhook_url
        if url is None:
            self._pending.append(update)
            self._wake_pollers()
            return None
        headers = {"Content-Type": "application/json"}
        if self._webhook_secret:
            headers[SECRET_TOKEN_HEADER] = self._webhook_secret
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with self._webhook_slots:
            try:
                async with self._session.post(url, data=_dumps(update), headers=headers) as reply:
                    body = await reply.read()
                    status = reply.status
                    reason = reply.reason
                    answer_type = reply.content_type
            except (aiohttp.ClientError, TimeoutError) as error:
                self._webhook_last_error = (int(time.time()), f"Connection failed: {error}")
                logger.warning("Webhook %s unreachable: %s", url, error)
                raise
        if status < 300 and answer_type == "application/json":
            await self._method_in_webhook_answer(body)
        if status >= 300:
            message = f"Wrong response from the webhook: {status} {reason}"
            self._webhook_last_error = (int(time.time()), message)
            logger.debug("Webhook answered update %s with %d", update.get("update_id"), status)
        return status

    async def _method_in_webhook_answer(self, body: bytes) -> None:
        """A webhook may answer with one method call; Telegram runs it and reports nothing."""
        try:
            call = json.loads(body)
        except ValueError:
            return
        if not isinstance(call, dict) or not isinstance(call.get("method"), str):
            return
        method = call.pop("method")
        params = {k: _decode_field(k, v) if isinstance(v, str) else v for k, v in call.items()}
        await self._call(method, params, WEBHOOK_ANSWER_TOKEN)

    async def _deliver_from(self, user: EmulatedUser, content: JsonDict) -> JsonDict:
        self._last_update_id += 1
        update = {"update_id": self._last_update_id, **content}
        message = content.get("message")
        if message is not None:
            self._messages[(user.id, message["message_id"])] = message
        user.last_status = await self.deliver(update)
        return update

    def _wake_pollers(self) -> None:
        event, self._updates_event = self._updates_event, asyncio.Event()
        event.set()

    def _new_callback_query_id(self) -> str:
        query_id = str(4_000_000_000_000_000 + next(self._counters))
        self._unanswered_queries.add(query_id)
        return query_id

    def _chat_instance(self, chat_id: int) -> str:
        return str((chat_id * 2_654_435_761 + self.bot_id) % 2**63)

    # HTTP

    async def _handle(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        requested = request.match_info["method"]
        try:
            params = await self._read_params(request)
        except _ApiError as error:
            return error.response()
        return await self._call(requested, params, token)

    async def _call(self, requested: str, params: JsonDict, token: str) -> web.Response:
        """Run one Bot API method; the answer is what Telegram would send back."""
        method = self._methods.get(requested.lower())
        self.requests.append(RecordedRequest(method.name if method else requested, params, token))
        if token != WEBHOOK_ANSWER_TOKEN and _TOKEN_RE.fullmatch(token) is None:
            return _ApiError(401, "Unauthorized").response()
        if method is None:
            return _ApiError(404, "Not Found: method not found").response()
        try:
            injected = self._injected.get(requested.lower())
            if injected:
                raise _ApiError(*injected.popleft())
            if method.is_send and self.fail_rate and self._random.random() < self.fail_rate:
                raise _ApiError(500, "Internal Server Error")
            result = await method.handler(params)
        except _ApiError as error:
            logger.debug("%s -> %d %s", method.name, error.status, error.description)
            return error.response()
        return web.json_response({"ok": True, "result": result}, dumps=_dumps)

    async def _read_params(self, request: web.Request) -> JsonDict:
        """Query string, then the body: JSON, url-encoded or multipart form."""
        params: JsonDict = {key: _decode_field(key, value) for key, value in request.query.items()}
        if not request.body_exists:
            return params
        content_type = request.content_type
        if content_type == "application/json":
            try:
                body = json.loads(await request.read())
            except ValueError:
                raise _bad_request("can't parse JSON object") from None
            if not isinstance(body, dict):
                raise _bad_request("can't parse JSON object")
            for key, value in body.items():
                params[key] = _decode_field(key, value) if isinstance(value, str) else value
        elif content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    content = value.file.read()
                    params[key] = UploadedFile(
                        value.filename, value.content_type, len(content), content
                    )
                elif isinstance(value, str):
                    params[key] = _decode_field(key, value)
        return params

    # Shared checks

    def _chat(self, params: JsonDict) -> EmulatedUser:
        """The private chat addressed by ``chat_id``, if the bot can write to it."""
        raw = params.get("chat_id")
        if raw is None or raw == "":
            raise _bad_request("chat_id is empty")
        chat_id: int | None = None
        if isinstance(raw, int) and not isinstance(raw, bool):
            chat_id = raw
        elif isinstance(raw, str) and raw.lstrip("-").isdigit():
            chat_id = int(raw)
        user = self._users.get(chat_id) if chat_id is not None else None
        if user is None:
            raise _bad_request("chat not found")
        if user.id in self._deactivated:
            raise _ApiError(403, "Forbidden: user is deactivated")
        if user.id in self._blocked:
            raise _ApiError(403, "Forbidden: bot was blocked by the user")
        return user

    def _take_send_slot(self, chat_id: int) -> None:
        """Flood control: take one message from the global and the chat's budget, or 429."""
        now = time.monotonic()
        wait = 0.0
        global_bucket: TokenBucket | None = None
        chat_bucket: TokenBucket | None = None
        if self.global_rate is not None:
            global_bucket = self._global_bucket
            global_bucket.rate = self.global_rate
            global_bucket.capacity = max(1.0, self.global_rate)
            wait = global_bucket.wait(now)
        if self.per_chat_rate is not None:
            chat_bucket = self._chat_buckets.get(chat_id)
            if chat_bucket is None:
                chat_bucket = TokenBucket(self.burst, self.per_chat_rate, self.burst, now)
                self._chat_buckets[chat_id] = chat_bucket
            chat_bucket.rate = self.per_chat_rate
            chat_bucket.capacity = self.burst
            wait = max(wait, chat_bucket.wait(now))
        if wait > 0:
            raise _too_many_requests(max(1, math.ceil(wait)))
        for bucket in (global_bucket, chat_bucket):
            if bucket is not None:
                bucket.tokens -= 1.0

    @staticmethod
    def _formatted(
        params: JsonDict, text_key: str, entities_key: str, parse_mode_key: str
    ) -> tuple[str | None, list[JsonDict] | None]:
        """Apply ``parse_mode`` (HTML parsed; Markdown kept as sent) or explicit entities."""
        text = _as_text(params.get(text_key))
        entities = params.get(entities_key)
        parse_mode = params.get(parse_mode_key)
        if text is None:
            return None, None
        if entities is not None:
            if not isinstance(entities, list):
                raise _bad_request(f'field "{entities_key}" must be an Array')
            return text, entities or None
        if parse_mode is None or parse_mode == "":
            return text, None
        mode = str(parse_mode).lower()
        if mode == "html":
            if "<" not in text and "&" not in text:
                return text, None
            plain, parsed = _TelegramHtml.parse(text)
            return plain, parsed or None
        if mode in ("markdown", "markdownv2"):
            return text, None
        raise _bad_request("unsupported parse_mode")

    def _message_text(self, params: JsonDict) -> tuple[str, list[JsonDict] | None]:
        text, entities = self._formatted(params, "text", "entities", "parse_mode")
        if text is None or not text.strip():
            raise _bad_request("message text is empty")
        if _utf16_length(text) > MAX_MESSAGE_LENGTH:
            raise _bad_request("message is too long")
        return text, entities

    def _caption(self, params: JsonDict) -> JsonDict:
        caption, entities = self._formatted(params, "caption", "caption_entities", "parse_mode")
        if not caption:
            return {}
        if _utf16_length(caption) > MAX_CAPTION_LENGTH:
            raise _bad_request("message caption is too long")
        content: JsonDict = {"caption": caption}
        if entities:
            content["caption_entities"] = entities
        return content

    def _reply_to(self, user: EmulatedUser, params: JsonDict) -> JsonDict | None:
        reply = params.get("reply_parameters")
        if isinstance(reply, dict):
            message_id = _as_int(reply, "message_id")
            lenient = _as_bool(reply, "allow_sending_without_reply")
        else:
            message_id = _as_int(params, "reply_to_message_id")
            lenient = _as_bool(params, "allow_sending_without_reply")
        if message_id is None:
            return None
        original = self._messages.get((user.id, message_id))
        if original is None:
            if lenient:
                return None
            raise _bad_request("message to be replied not found")
        return {key: value for key, value in original.items() if key != "reply_to_message"}

    def _bot_message(self, user: EmulatedUser, params: JsonDict, **content: Any) -> JsonDict:
        """Create a message from the bot in ``user``'s chat (after all checks passed)."""
        message: JsonDict = {
            "message_id": user._next_message_id(),
            "from": self._bot_user(),
            "chat": user.chat,
            "date": int(time.time()),
        }
        reply_to = self._reply_to(user, params)
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message.update((key, value) for key, value in content.items() if value is not None)
        self._messages[(user.id, message["message_id"])] = message
        user._receive(message)
        return message

    def _message_to_edit(self, params: JsonDict) -> JsonDict:
        if params.get("inline_message_id") is not None:
            raise _bad_request("message to edit not found")
        user = self._chat(params)
        message_id = _as_int(params, "message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._messages.get((user.id, message_id))
        if message is None:
            raise _bad_request("message to edit not found")
        if message["from"]["id"] != self.bot_id:
            raise _bad_request("message can't be edited")
        return message

    def _bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_first_name,
            "username": self.bot_username,
        }

    # Bot API methods

    async def _get_me(self, params: JsonDict) -> JsonDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _get_updates(self, params: JsonDict) -> list[JsonDict]:
        """Long polling; an update is confirmed by a later ``offset`` above its id.

        Only updates already handed out are confirmed, so that an update redelivered with
        an old id (see :meth:`deliver`) is still received once.
        """
        if self.webhook_url is not None:
            raise _ApiError(409, _WEBHOOK_CONFLICT)
        offset = _as_int(params, "offset")
        limit = min(max(_as_int(params, "limit") or 100, 1), 100)
        raw_timeout = params.get("timeout")
        timeout = 0.0
        if isinstance(raw_timeout, int | float) and not isinstance(raw_timeout, bool):
            timeout = float(raw_timeout)
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = params["allowed_updates"]

        self._poll_generation += 1
        generation = self._poll_generation
        self._wake_pollers()  # an older long poll ends with a conflict, as on Telegram
        if offset is not None:
            pending = self._pending
            if offset < 0:
                while len(pending) > -offset:
                    pending.popleft()
                    self._handed_out = max(0, self._handed_out - 1)
            else:
                while self._handed_out and pending[0].get("update_id", 0) < offset:
                    pending.popleft()
                    self._handed_out -= 1

        if not self._pending and timeout > 0 and not self._closing:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while not self._pending and not self._closing:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        await self._updates_event.wait()
                except TimeoutError:
                    break
                if generation != self._poll_generation:
                    raise _ApiError(409, _POLL_CONFLICT)
                if self.webhook_url is not None:
                    raise _ApiError(409, _WEBHOOK_CONFLICT)

        batch = list(itertools.islice(self._pending, limit))
        self._handed_out = max(self._handed_out, len(batch))
        return batch

    async def _set_webhook(self, params: JsonDict) -> bool:
        url = params.get("url") or ""
        if not isinstance(url, str):
            raise _bad_request('wrong parameter "url" specified')
        secret = params.get("secret_token")
        if secret is not None:
            secret = str(secret)
            if len(secret) > 256:
                raise _bad_request("secret token is too long")
            if _SECRET_TOKEN_RE.fullmatch(secret) is None:
                raise _bad_request("secret token contains unallowed characters")
        if url:
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise _bad_request("bad webhook: Failed to resolve host: Name or service not known")
        if _as_bool(params, "drop_pending_updates"):
            self._drop_pending()
        max_connections = _as_int(params, "max_connections") or 40
        if max_connections != self._webhook_max_connections:
            self._webhook_max_connections = min(max(max_connections, 1), 100)
            self._webhook_slots = asyncio.Semaphore(self._webhook_max_connections)
        allowed = params.get("allowed_updates")
        if isinstance(allowed, list):
            self._allowed_updates = allowed
        self.webhook_url = url or None
        self._webhook_secret = secret or None
        self._webhook_last_error = None
        self._wake_pollers()
        logger.debug("Webhook set to %r", self.webhook_url)
        return True

    async def _delete_webhook(self, params: JsonDict) -> bool:
        if _as_bool(params, "drop_pending_updates"):
            self._drop_pending()
        self.webhook_url = None
        self._webhook_secret = None
        self._webhook_last_error = None
        return True

    def _drop_pending(self) -> None:
        self._pending.clear()
        self._handed_out = 0

    async def _get_webhook_info(self, params: JsonDict) -> JsonDict:
        info: JsonDict = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._pending),
        }
        if self.webhook_url:
            info["max_connections"] = self._webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            if self._allowed_updates is not None:
                info["allowed_updates"] = self._allowed_updates
            if self._webhook_last_error is not None:
                info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    async def _send_message(self, params: JsonDict) -> JsonDict:
        user = self._chat(params)
        text, entities = self._message_text(params)
        markup = _parse_reply_markup(params.get("reply_markup"))
        self._take_send_slot(user.id)
        raw = params.get("reply_markup")
        if isinstance(raw, dict) and "keyboard" in raw:
            user.reply_keyboard = raw
        elif isinstance(raw, dict) and raw.get("remove_keyboard") is True:
            user.reply_keyboard = None
        return self._bot_message(user, params, text=text, entities=entities, reply_markup=markup)

    async def _send_document(self, params: JsonDict) -> JsonDict:
        user = self._chat(params)
        document = params.get("document")
        file_number = next(self._counters)
        if isinstance(document, UploadedFile):
            described: JsonDict = {
                "file_name": document.file_name,
                "mime_type": document.content_type,
                "file_size": document.size,
            }
        elif isinstance(document, str) and document:
            name = urlsplit(document).path.rsplit("/", 1)[-1] if "://" in document else None
            described = {"file_name": name} if name else {}
        else:
            raise _bad_request("there is no document in the request")
        caption = self._caption(params)
        markup = _parse_reply_markup(params.get("reply_markup"))
        self._take_send_slot(user.id)
        described = {
            "file_id": f"BQACAgIAAxkBAAI{file_number:08d}",
            "file_unique_id": f"AgAD{file_number:08d}",
            **described,
        }
        return self._bot_message(user, params, document=described, **caption, reply_markup=markup)

    async def _send_poll(self, params: JsonDict) -> JsonDict:
        user = self._chat(params)
        question = _as_text(params.get("question"))
        if not question or not question.strip():
            raise _bad_request("poll question must be non-empty")
        if _utf16_length(question) > MAX_POLL_QUESTION_LENGTH:
            raise _bad_request(f"poll question length must not exceed {MAX_POLL_QUESTION_LENGTH}")
        raw_options = params.get("options")
        if not isinstance(raw_options, list) or not raw_options:
            raise _bad_request("poll must have at least one answer option")
        if len(raw_options) > MAX_POLL_OPTIONS:
            raise _bad_request(f"poll can't have more than {MAX_POLL_OPTIONS} options")
        options: list[JsonDict] = []
        for index, raw in enumerate(raw_options):
            text = _as_text(raw.get("text") if isinstance(raw, dict) else raw)
            if not text or not text.strip():
                raise _bad_request("poll options must be non-empty")
            if _utf16_length(text) > MAX_POLL_OPTION_LENGTH:
                raise _bad_request(f"poll options length must not exceed {MAX_POLL_OPTION_LENGTH}")
            options.append({"text": text, "voter_count": 0, "persistent_id": str(index)})
        poll_type = params.get("type") or "regular"
        if poll_type not in ("regular", "quiz"):
            raise _bad_request("poll type is invalid")
        correct = params.get("correct_option_ids")
        if correct is None and params.get("correct_option_id") is not None:
            correct = [_as_int(params, "correct_option_id")]
        if isinstance(correct, int) and not isinstance(correct, bool):
            correct = [correct]
        if poll_type == "quiz" and (
            not isinstance(correct, list)
            or not correct
            or not all(isinstance(i, int) and 0 <= i < len(options) for i in correct)
        ):
            raise _bad_request("wrong correct option ids specified for the quiz")
        markup = _parse_reply_markup(params.get("reply_markup"))
        self._take_send_slot(user.id)

        poll_id = str(5_000_000_000_000_000 + next(self._counters))
        poll: JsonDict = {
            "id": poll_id,
            "question": question,
            "options": options,
            "total_voter_count": 0,
            "is_closed": _as_bool(params, "is_closed"),
            "is_anonymous": _as_bool(params, "is_anonymous", default=True),
            "type": poll_type,
            "allows_multiple_answers": _as_bool(params, "allows_multiple_answers"),
            "allows_revoting": _as_bool(params, "allows_revoting", default=poll_type != "quiz"),
            "members_only": _as_bool(params, "members_only"),
        }
        if poll_type == "quiz":
            poll["correct_option_ids"] = correct
        for optional in ("explanation", "open_period", "close_date"):
            if params.get(optional) is not None:
                poll[optional] = params[optional]
        self.polls[poll_id] = poll
        return self._bot_message(user, params, poll=poll, reply_markup=markup)

    async def _send_chat_action(self, params: JsonDict) -> bool:
        self._chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad_request("wrong parameter action in request")
        return True

    async def _edit_message_text(self, params: JsonDict) -> JsonDict:
        message = self._message_to_edit(params)
        if "text" not in message:
            raise _bad_request("there is no text in the message to edit")
        text, entities = self._message_text(params)
        markup = _parse_reply_markup(params.get("reply_markup"))
        if (
            text == message["text"]
            and entities == message.get("entities")
            and markup == message.get("reply_markup")
        ):
            raise _ApiError(400, _NOT_MODIFIED)
        message["text"] = text
        self._set_or_pop(message, "entities", entities)
        self._set_or_pop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    async def _edit_message_reply_markup(self, params: JsonDict) -> JsonDict:
        message = self._message_to_edit(params)
        markup = _parse_reply_markup(params.get("reply_markup"))
        if markup == message.get("reply_markup"):
            raise _ApiError(400, _NOT_MODIFIED)
        self._set_or_pop(message, "reply_markup", markup)
        message["edit_date"] = int(time.time())
        return message

    @staticmethod
    def _set_or_pop(message: JsonDict, key: str, value: Any) -> None:
        if value is None:
            message.pop(key, None)
        else:
            message[key] = value

    async def _delete_message(self, params: JsonDict) -> bool:
        user = self._chat(params)
        message_id = _as_int(params, "message_id")
        if message_id is None:
            raise _bad_request("message identifier is not specified")
        message = self._messages.pop((user.id, message_id), None)
        if message is None:
            raise _bad_request("message to delete not found")
        # A linear scan of one chat, only on deletion (rare); sends stay O(1).
        for index in range(len(user.messages) - 1, -1, -1):
            if user.messages[index] is message:
                del user.messages[index]
                break
        return True

    async def _answer_callback_query(self, params: JsonDict) -> bool:
        query_id = str(params.get("callback_query_id") or "")
        if query_id not in self._unanswered_queries:
            raise _ApiError(400, _QUERY_INVALID)
        self._unanswered_queries.discard(query_id)
        self.callback_answers[query_id] = params
        return True

    async def _set_my_commands(self, params: JsonDict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list):
            raise _bad_request('parameter "commands" is required')
        if len(commands) > MAX_COMMANDS:
            raise _bad_request("BOT_COMMANDS_TOO_MUCH")
        stored: list[JsonDict] = []
        for command in commands:
            name = command.get("command") if isinstance(command, dict) else None
            if not isinstance(name, str) or _BOT_COMMAND_RE.fullmatch(name) is None:
                raise _bad_request("BOT_COMMAND_INVALID")
            description = command.get("description")
            if not isinstance(description, str) or not description.strip():
                raise _bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            stored.append({"command": name, "description": description})
        key = self._commands_key(params)
        if stored:
            self._commands[key] = stored
        else:
            self._commands.pop(key, None)
        return True

    async def _get_my_commands(self, params: JsonDict) -> list[JsonDict]:
        return self._commands.get(self._commands_key(params), [])

    async def _delete_my_commands(self, params: JsonDict) -> bool:
        self._commands.pop(self._commands_key(params), None)
        return True

    @staticmethod
    def _commands_key(params: JsonDict) -> tuple[str, str]:
        scope = params.get("scope") or {"type": "default"}
        return _dumps(scope, sort_keys=True), str(params.get("language_code") or "")

    async def _set_my_description(self, params: JsonDict) -> bool:
        language = str(params.get("language_code") or "")
        self._descriptions[("description", language)] = str(params.get("description") or "")
        return True

    async def _get_my_description(self, params: JsonDict) -> JsonDict:
        language = str(params.get("language_code") or "")
        return {"description": self._descriptions.get(("description", language), "")}

    async def _set_my_short_description(self, params: JsonDict) -> bool:
        language = str(params.get("language_code") or "")
        value = str(params.get("short_description") or "")
        self._descriptions[("short_description", language)] = value
        return True

    async def _get_my_short_description(self, params: JsonDict) -> JsonDict:
        language = str(params.get("language_code") or "")
        return {"short_description": self._descriptions.get(("short_description", language), "")}

    async def _set_chat_menu_button(self, params: JsonDict) -> bool:
        chat_id = _as_int(params, "chat_id")
        if chat_id is not None:
            self._chat(params)
        button = params.get("menu_button") or {"type": "default"}
        if not isinstance(button, dict) or button.get("type") not in (
            "commands",
            "web_app",
            "default",
        ):
            raise _bad_request("can't parse menu button")
        self._menu_buttons[chat_id] = button
        return True

    async def _get_chat_menu_button(self, params: JsonDict) -> JsonDict:
        chat_id = _as_int(params, "chat_id")
        return (
            self._menu_buttons.get(chat_id) or self._menu_buttons.get(None) or {"type": "default"}
        )

    async def _close(self, params: JsonDict) -> bool:
        return True

    async def _log_out(self, params: JsonDict) -> bool:
        return True
