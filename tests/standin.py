"""A Telegram Bot API stand-in for the tests: a real HTTP server on 127.0.0.1.

It owns the fake Telegram side of a conversation: it serves the Bot API methods our bot uses
(at ``{url}/bot{token}/{method}`` plus file downloads at ``{url}/file/bot{token}/{path}``),
records every call as a ``Call``, queues realistic updates injected by the test (texts,
commands, button presses, media) for ``getUpdates`` long polling, and injects failures
(429 with ``retry_after``, 403 for blocked chats, any status once or ``count`` times). It uses
only the standard library (``ThreadingHTTPServer`` in a background thread), so it works from
sync and async tests alike; in async tests use the ``*_async`` waiters so the event loop that
runs the bot is not blocked. ``Call.time`` is ``time.monotonic()``.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import math
import re
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

logger = logging.getLogger(__name__)

JsonDict = dict[str, Any]
SEND_METHODS = ("sendMessage", "sendVoice", "sendDocument", "sendPhoto", "copyMessage")
_CHAT_METHODS = frozenset(
    SEND_METHODS
    + ("forwardMessage", "sendChatAction", "editMessageText", "editMessageReplyMarkup")
    + ("deleteMessage", "sendSticker", "sendAudio")
)
# Form values that are free text or file ids: never JSON-decoded ("123" stays a string).
_TEXT_KEYS = frozenset(
    "text caption data callback_query_id file_id parse_mode description short_description"
    " action url emoji file_name title inline_message_id language_code query voice document"
    " photo audio video sticker thumbnail animation video_note".split()
)
_DEFAULT_STATUS_TEXT = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}
_MAX_TEXT = 4096


@dataclass(frozen=True)
class Call:
    """One request the bot made. ``status`` is the HTTP status the stand-in answered."""

    method: str
    params: JsonDict
    files: dict[str, bytes]
    time: float
    status: int = 200
    result: Any = field(default=None, compare=False)


@dataclass(frozen=True)
class _File:
    file_id: str
    data: bytes | None
    file_path: str
    mime_type: str


@dataclass(frozen=True)
class _Req:
    params: JsonDict
    files: dict[str, bytes]
    names: dict[str, str]


class _ApiError(Exception):
    def __init__(self, status: int, description: str | None = None, retry_after: int = 0):
        super().__init__(description)
        self.status = status
        self.description = description or _DEFAULT_STATUS_TEXT.get(status, f"Error {status}")
        if status == 429 and description is None:
            self.description = f"Too Many Requests: retry after {retry_after}"
        self.retry_after = retry_after

    def body(self) -> JsonDict:
        out: JsonDict = {"ok": False, "error_code": self.status, "description": self.description}
        if self.status == 429:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out separately: avoid 40 ms stalls
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.server.standin._track(self.connection, True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.standin._track(self.connection, False)

    def do_POST(self) -> None:
        self.server.standin._serve(self)

    do_GET = do_POST

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        logger.debug(format, *args)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # bursts of new connections must not wait for SYN retries
    standin: BotApiStandin


def _decode_form_value(key: str, value: str) -> Any:
    if key in _TEXT_KEYS:
        return value
    try:
        return json.loads(value)
    except ValueError:
        return value


def _parse_multipart(body: bytes, content_type: str) -> tuple[JsonDict, dict[str, bytes], JsonDict]:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    if not match:
        raise _ApiError(400, "Bad Request: multipart boundary missing")
    params: JsonDict = {}
    files: dict[str, bytes] = {}
    names: JsonDict = {}
    for chunk in body.split(b"--" + match.group(1).encode())[1:]:
        if chunk.startswith(b"--"):
            break
        head, _, payload = chunk.removeprefix(b"\r\n").partition(b"\r\n\r\n")
        payload = payload.removesuffix(b"\r\n")
        disposition = head.decode("utf-8", "replace")
        name = re.search(r'\bname="([^"]*)"', disposition)
        filename = re.search(r'\bfilename="([^"]*)"', disposition)
        if name is None:
            continue
        if filename is not None:
            files[name.group(1)] = payload
            names[name.group(1)] = filename.group(1)
        else:
            key = name.group(1)
            params[key] = _decode_form_value(key, payload.decode("utf-8"))
    return params, files, names


def _ogg_duration(data: bytes) -> int:
    """Seconds of an Ogg/Opus file from its last granule position (48 kHz), at least 1."""
    last = data.rfind(b"OggS")
    if not data.startswith(b"OggS") or last < 0 or len(data) < last + 14:
        return 1
    granule = int.from_bytes(data[last + 6 : last + 14], "little")
    return max(1, math.ceil(granule / 48000)) if granule < 2**62 else 1


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class BotApiStandin:
    """Serve a fake Bot API on a free port; see the module docstring."""

    def __init__(self, token: str = "123456:TEST-TOKEN", bot_username: str = "nkt_test_bot"):
        self.token = token
        self.bot_username = bot_username
        self.bot_id = int(token.split(":", 1)[0]) if token.split(":", 1)[0].isdigit() else 1
        self._cond = threading.Condition(threading.RLock())
        self._calls: list[Call] = []
        self.unknown_methods: list[str] = []
        self._updates: list[JsonDict] = []
        self._allowed_updates: list[str] = []
        self._poll_generation = 0
        self._messages: dict[int, JsonDict] = {}
        self._last_bot_message: dict[int | str, int] = {}
        self._files: dict[str, _File] = {}
        self._by_path: dict[str, _File] = {}
        self._callbacks: dict[str, bool] = {}
        self._names: dict[int, str] = {}
        self._failures: dict[str, list[_ApiError]] = {}
        self._blocked: set[int | str] = set()
        self.commands: dict[str, Any] = {}  # setMyCommands, by (scope, language) key
        self.descriptions: dict[str, str] = {}  # "description:<lang>" / "short_description:<lang>"
        self._ids = itertools.count(1)
        self._update_ids = itertools.count(10_000)
        self._conns: set[socket.socket] = set()
        self._stopping = False
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # ----------------------------------------------------------------- lifecycle
    def start(self) -> BotApiStandin:
        self._stopping = False
        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._server.standin = self
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        self._server.shutdown()
        with self._cond:
            conns = list(self._conns)
        for conn in conns:  # wake keep-alive threads blocked reading the next request
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._server = None

    def __enter__(self) -> BotApiStandin:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _track(self, conn: socket.socket, alive: bool) -> None:
        with self._cond:
            (self._conns.add if alive else self._conns.discard)(conn)

    # ----------------------------------------------------------------- inspection
    @property
    def calls(self) -> list[Call]:
        with self._cond:
            return list(self._calls)

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def mark(self) -> int:
        """Index to pass as ``after_index`` to only look at calls made from now on."""
        with self._cond:
            return len(self._calls)

    def clear(self) -> None:
        """Forget recorded calls and unknown methods (messages, files and updates stay)."""
        with self._cond:
            self._calls.clear()
            self.unknown_methods.clear()

    def messages_to(self, chat_id: int | str) -> list[str]:
        """Texts of successful sendMessage/editMessageText calls to ``chat_id``, in order."""
        return [
            c.params.get("text", "")
            for c in self.calls
            if c.status == 200 and _is_text(c) and _same_chat(c.params.get("chat_id"), chat_id)
        ]

    def voices_to(self, chat_id: int | str) -> list[tuple[str | None, bytes | None]]:
        """Successful sendVoice calls: (None, bytes) for uploads, (file_id, None) for re-sends."""
        out: list[tuple[str | None, bytes | None]] = []
        for c in self.calls_of("sendVoice"):
            if c.status == 200 and _same_chat(c.params.get("chat_id"), chat_id):
                upload = c.files.get("voice")
                out.append((None, upload) if upload is not None else (c.params.get("voice"), None))
        return out

    def unanswered_callbacks(self) -> list[str]:
        """Ids of pressed buttons whose callback query was never answered."""
        with self._cond:
            return [qid for qid, answered in self._callbacks.items() if not answered]

    def pending_updates(self) -> int:
        """Updates queued but not yet confirmed by a later getUpdates offset."""
        with self._cond:
            return len(self._updates)

    def rate_per_second(self, method_names: Iterable[str] = ("sendMessage", "sendVoice")) -> int:
        """Peak number of calls of ``method_names`` that arrived within any 1-second window."""
        names = set(method_names)
        times = sorted(c.time for c in self.calls if c.method in names)
        peak, lo = 0, 0
        for hi, t in enumerate(times):
            while t - times[lo] >= 1.0:
                lo += 1
            peak = max(peak, hi - lo + 1)
        return peak

    def per_chat_counts(self, method_names: Iterable[str] = SEND_METHODS) -> dict[Any, int]:
        """Number of calls of ``method_names`` per target chat_id."""
        names = set(method_names)
        return dict(Counter(c.params.get("chat_id") for c in self.calls if c.method in names))

    def wait_for(
        self, predicate: Callable[[Call], bool], timeout: float = 5.0, after_index: int = 0
    ) -> Call:
        """Block until a recorded call (from ``after_index`` on) satisfies ``predicate``."""
        deadline = time.monotonic() + timeout
        index = after_index
        with self._cond:
            while True:
                while index < len(self._calls):
                    call = self._calls[index]
                    index += 1
                    if predicate(call):
                        return call
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise AssertionError(f"no matching call within {timeout}s; {self._summary()}")
                self._cond.wait(remaining)

    def wait_for_message(
        self,
        chat_id: int | str,
        contains: str | None = None,
        timeout: float = 5.0,
        after_index: int = 0,
    ) -> Call:
        """Wait for a successful sendMessage/editMessageText to ``chat_id`` containing text."""

        def matches(c: Call) -> bool:
            text = str(c.params.get("text", ""))
            return (
                c.status == 200
                and _is_text(c)
                and _same_chat(c.params.get("chat_id"), chat_id)
                and (contains is None or contains in text)
            )

        return self.wait_for(matches, timeout, after_index)

    async def wait_for_async(
        self, predicate: Callable[[Call], bool], timeout: float = 5.0, after_index: int = 0
    ) -> Call:
        return await asyncio.to_thread(self.wait_for, predicate, timeout, after_index)

    async def wait_for_message_async(
        self,
        chat_id: int | str,
        contains: str | None = None,
        timeout: float = 5.0,
        after_index: int = 0,
    ) -> Call:
        return await asyncio.to_thread(
            self.wait_for_message, chat_id, contains, timeout, after_index
        )

    def _summary(self, last: int = 15) -> str:
        recent = [c for c in self._calls if c.method != "getUpdates"][-last:]
        lines = [
            f"{c.method} [{c.status}] "
            + json.dumps({k: v for k, v in c.params.items() if k != "reply_markup"})[:160]
            for c in recent
        ]
        return "recent calls:\n  " + ("\n  ".join(lines) if lines else "(none)")

    # ----------------------------------------------------------------- failure injection
    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int = 1,
        count: int = 1,
        description: str | None = None,
    ) -> None:
        """Make the next ``count`` calls of ``method`` fail with ``status``."""
        with self._cond:
            queue = self._failures.setdefault(method, [])
            queue.extend(_ApiError(status, description, retry_after) for _ in range(count))

    def block_chat(self, chat_id: int | str) -> None:
        with self._cond:
            self._blocked.add(_chat_key(chat_id))

    def unblock_chat(self, chat_id: int | str) -> None:
        with self._cond:
            self._blocked.discard(_chat_key(chat_id))

    # ----------------------------------------------------------------- update injection
    def send_text(
        self,
        user_id: int,
        text: str,
        chat_id: int | None = None,
        reply_to_message_id: int | None = None,
        first_name: str = "User",
    ) -> int:
        content: JsonDict = {"text": text}
        if text.startswith("/"):
            command = text.split(maxsplit=1)[0]
            content["entities"] = [
                {"type": "bot_command", "offset": 0, "length": _utf16_len(command)}
            ]
        with self._cond:
            if reply_to_message_id is not None:
                content["reply_to_message"] = self._messages.get(reply_to_message_id) or {
                    "message_id": reply_to_message_id,
                    "date": int(time.time()),
                    "chat": self._chat(user_id if chat_id is None else chat_id),
                }
            return self._push_message(user_id, chat_id, first_name, content)

    def press_button(
        self,
        user_id: int,
        data: str,
        message_id: int | None = None,
        chat_id: int | None = None,
        first_name: str = "User",
    ) -> int:
        """Queue a callback_query on ``message_id`` (default: the bot's last message there)."""
        chat = user_id if chat_id is None else chat_id
        with self._cond:
            mid = message_id if message_id is not None else self._last_bot_message.get(chat)
            message = self._messages.get(mid) if mid is not None else None
            if message is None:
                message = self._store(self._message(chat, self._bot_user(), {"text": "…"}, mid))
            qid = str(next(self._ids) + 5_000_000)
            self._callbacks[qid] = False
            self._names[user_id] = first_name
            query = {
                "id": qid,
                "from": self._user(user_id),
                "chat_instance": f"ci-{chat}",
                "data": data,
                "message": message,
            }
            return self._push("callback_query", query)

    def send_sticker(self, user_id: int, chat_id: int | None = None) -> int:
        sticker = {
            **self._register("sticker", b"RIFF-webp", "image/webp"),
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": "👍",
        }
        with self._cond:
            return self._push_message(user_id, chat_id, None, {"sticker": sticker})

    def send_photo(
        self, user_id: int, data: bytes = b"\xff\xd8\xff\xe0JPEG", caption: str | None = None
    ) -> int:
        big = self._register("photo", data, "image/jpeg")
        small = {**big, "file_id": big["file_id"] + "-s", "file_unique_id": big["file_id"] + "s"}
        content: JsonDict = {
            "photo": [{**small, "width": 90, "height": 90}, {**big, "width": 800, "height": 600}]
        }
        if caption:
            content["caption"] = caption
        with self._cond:
            return self._push_message(user_id, None, None, content)

    def send_voice(
        self, user_id: int, data: bytes = b"OggS\x00user-voice", duration: int = 2
    ) -> int:
        voice = {**self._register("voice", data, "audio/ogg"), "duration": duration}
        with self._cond:
            return self._push_message(user_id, None, None, {"voice": voice})

    def send_document(
        self,
        user_id: int,
        file_name: str,
        data: bytes,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> int:
        document = {**self._register("document", data, mime_type), "file_name": file_name}
        content: JsonDict = {"document": document}
        if caption:
            content["caption"] = caption
        with self._cond:
            return self._push_message(user_id, None, None, content)

    def send_location(
        self, user_id: int, latitude: float = 21.0285, longitude: float = 105.8542
    ) -> int:
        with self._cond:
            location = {"latitude": latitude, "longitude": longitude}
            return self._push_message(user_id, None, None, {"location": location})

    def push_update(self, kind: str, payload: JsonDict) -> int:
        """Queue any raw update, e.g. ``push_update("my_chat_member", {...})``."""
        with self._cond:
            return self._push(kind, payload)

    # ----------------------------------------------------------------- builders
    def _push(self, kind: str, payload: JsonDict) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, kind: payload})
        self._cond.notify_all()
        return update_id

    def _push_message(
        self, user_id: int, chat_id: int | None, first_name: str | None, content: JsonDict
    ) -> int:
        if first_name is not None or user_id not in self._names:
            self._names[user_id] = first_name or "User"
        chat = user_id if chat_id is None else chat_id
        return self._push("message", self._store(self._message(chat, self._user(user_id), content)))

    def _user(self, user_id: int) -> JsonDict:
        name = self._names.get(user_id, "User")
        return {"id": user_id, "is_bot": False, "first_name": name, "language_code": "vi"}

    def _bot_user(self) -> JsonDict:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": "NKT Test Bot",
            "username": self.bot_username,
        }

    def _chat(self, chat_id: Any) -> JsonDict:
        key = _chat_key(chat_id)
        if isinstance(key, int) and key < 0:
            return {"id": key, "type": "group", "title": "Nhóm thử"}
        return {"id": key, "type": "private", "first_name": self._names.get(key, "User")}

    def _message(
        self, chat_id: Any, sender: JsonDict, content: JsonDict, message_id: int | None = None
    ) -> JsonDict:
        return {
            "message_id": next(self._ids) if message_id is None else message_id,
            "from": sender,
            "chat": self._chat(chat_id),
            "date": int(time.time()),
            **content,
        }

    def _store(self, message: JsonDict) -> JsonDict:
        self._messages[message["message_id"]] = message
        if message["from"].get("is_bot"):
            self._last_bot_message[message["chat"]["id"]] = message["message_id"]
        return message

    def _register(self, kind: str, data: bytes | None, mime: str) -> JsonDict:
        """Store a new file under a fresh id like ``voice-7`` so getFile and downloads work."""
        with self._cond:
            n = next(self._ids)
            stored = _File(f"{kind}-{n}", data, f"{kind}s/file_{n}", mime)
            self._files[stored.file_id] = stored
            self._by_path[stored.file_path] = stored
        return _file_json(stored)

    # ----------------------------------------------------------------- HTTP serving
    def _serve(self, handler: _Handler) -> None:
        started = time.monotonic()
        parts = urlsplit(handler.path)
        path = unquote(parts.path)  # httpx sends the token's ":" as %3A in file URLs
        try:
            if path.startswith("/file/bot"):
                self._serve_file(handler, path.removeprefix("/file/bot"))
                return
            token, _, method = path.removeprefix("/bot").partition("/")
            if not path.startswith("/bot") or token != self.token:
                self._read_body(handler)
                self._reply(handler, 401, _ApiError(401).body())
                return
            params, files = self._parse_request(handler, parts.query)
        except _ApiError as err:
            self._reply(handler, err.status, err.body())
            return
        status, body = self._dispatch(method, params, files, started)
        self._reply(handler, status, body)

    def _read_body(self, handler: _Handler) -> bytes:
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    def _parse_request(self, handler: _Handler, query: str) -> tuple[JsonDict, dict[str, bytes]]:
        body = self._read_body(handler)
        ctype = handler.headers.get("Content-Type", "")
        params: JsonDict = {k: _decode_form_value(k, v) for k, v in parse_qsl(query)}
        files: dict[str, bytes] = {}
        if ctype.startswith("multipart/form-data"):
            form, files, names = _parse_multipart(body, ctype)
            params.update(form)
            params["_file_names"] = names
        elif ctype.startswith("application/json") and body:
            try:
                params.update(json.loads(body))
            except ValueError as err:
                raise _ApiError(400, "Bad Request: can't parse JSON") from err
        elif body:
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
            params.update({k: _decode_form_value(k, v) for k, v in pairs})
        for key, value in list(params.items()):  # attach://name refers to a multipart part
            if isinstance(value, str) and value.startswith("attach://"):
                files.setdefault(key, files.get(value.removeprefix("attach://"), b""))
                del params[key]
        return params, files

    def _dispatch(
        self, method: str, params: JsonDict, files: dict[str, bytes], started: float
    ) -> tuple[int, JsonDict]:
        req = _Req(params, files, params.pop("_file_names", {}))
        action = getattr(self, f"_api_{method}", None)
        result: Any = None
        try:
            with self._cond:
                queue = self._failures.get(method)
                if queue:
                    raise queue.pop(0)
                if method in _CHAT_METHODS and _chat_key(params.get("chat_id")) in self._blocked:
                    raise _ApiError(403)
            if action is None:
                with self._cond:
                    self.unknown_methods.append(method)
                raise _ApiError(404, "Not Found: method not found")
            result = action(req)
            status, body = 200, {"ok": True, "result": result}
        except _ApiError as err:
            status, body = err.status, err.body()
        except Exception:  # a stand-in bug must show up as a failed call, not a hung client
            logger.exception("stand-in failed on %s", method)
            status, body = 500, _ApiError(500).body()
        with self._cond:
            self._calls.append(Call(method, params, files, started, status, result))
            self._cond.notify_all()
        return status, body

    def _reply(self, handler: _Handler, status: int, body: JsonDict) -> None:
        self._reply_bytes(handler, status, json.dumps(body).encode(), "application/json")

    def _reply_bytes(self, handler: _Handler, status: int, data: bytes, ctype: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", ctype)
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:  # the client gave up (e.g. an abandoned long poll)
            handler.close_connection = True

    def _serve_file(self, handler: _Handler, rest: str) -> None:
        self._read_body(handler)
        token, _, path = rest.partition("/")
        with self._cond:
            stored = self._by_path.get(path) if token == self.token else None
        if stored is None or stored.data is None:
            self._reply(handler, 404, _ApiError(404, "Not Found: file not found").body())
            return
        self._reply_bytes(handler, 200, stored.data, stored.mime_type)

    # ----------------------------------------------------------------- methods
    def _api_getMe(self, req: _Req) -> JsonDict:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _api_deleteWebhook(self, req: _Req) -> bool:
        if req.params.get("drop_pending_updates"):
            with self._cond:
                self._updates.clear()
        return True

    def _api_getUpdates(self, req: _Req) -> list[JsonDict]:
        offset = int(req.params.get("offset") or 0)
        limit = min(max(int(req.params.get("limit") or 100), 1), 100)
        deadline = time.monotonic() + min(float(req.params.get("timeout") or 0), 50.0)
        with self._cond:
            self._poll_generation += 1
            generation = self._poll_generation
            self._cond.notify_all()  # like Telegram: a newer poll ends an older held one (409)
            if offset > 0:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            elif offset < 0:
                self._updates = self._updates[offset:]
            if "allowed_updates" in req.params:
                self._allowed_updates = list(req.params["allowed_updates"] or [])
            while True:
                allowed = self._allowed_updates
                ready = [u for u in self._updates if not allowed or _kind(u) in allowed]
                if generation != self._poll_generation:
                    raise _ApiError(409)
                remaining = deadline - time.monotonic()
                if ready or self._stopping or remaining <= 0:
                    return ready[:limit]
                self._cond.wait(remaining)

    def _api_setMyCommands(self, req: _Req) -> bool:
        with self._cond:
            self.commands[_scope_key(req.params)] = req.params.get("commands", [])
        return True

    def _api_getMyCommands(self, req: _Req) -> list[JsonDict]:
        with self._cond:
            return list(self.commands.get(_scope_key(req.params), []))

    def _api_deleteMyCommands(self, req: _Req) -> bool:
        with self._cond:
            self.commands.pop(_scope_key(req.params), None)
        return True

    def _api_setMyDescription(self, req: _Req) -> bool:
        return self._set_description("description", req.params)

    def _api_setMyShortDescription(self, req: _Req) -> bool:
        return self._set_description("short_description", req.params)

    def _set_description(self, kind: str, params: JsonDict) -> bool:
        with self._cond:
            self.descriptions[f"{kind}:{params.get('language_code', '')}"] = params.get(kind, "")
        return True

    def _api_sendMessage(self, req: _Req) -> JsonDict:
        text = _checked_text(req.params)
        return self._bot_send(req.params, {"text": text})

    def _api_sendChatAction(self, req: _Req) -> bool:
        return True

    def _api_sendVoice(self, req: _Req) -> JsonDict:
        voice = self._media(req, "voice", "audio/ogg")
        duration = req.params.get("duration") or _ogg_duration(req.files.get("voice", b""))
        return self._bot_send(req.params, {"voice": {**voice, "duration": int(duration)}})

    def _api_sendDocument(self, req: _Req) -> JsonDict:
        document = self._media(req, "document", "application/octet-stream")
        document["file_name"] = req.names.get("document", "file")
        return self._bot_send(req.params, {"document": document})

    def _api_sendPhoto(self, req: _Req) -> JsonDict:
        photo = self._media(req, "photo", "image/jpeg")
        del photo["mime_type"]
        return self._bot_send(req.params, {"photo": [{**photo, "width": 800, "height": 600}]})

    def _media(self, req: _Req, kind: str, mime: str) -> JsonDict:
        if kind in req.files:
            return self._register(kind, req.files[kind], mime)
        ref = str(req.params.get(kind))
        if ref.startswith(("http://", "https://")):
            return self._register(kind, None, mime)
        with self._cond:
            known = self._files.get(ref)
        if known is None:
            raise _ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        return _file_json(known)

    def _bot_send(self, params: JsonDict, content: JsonDict) -> JsonDict:
        if params.get("chat_id") in (None, ""):
            raise _ApiError(400, "Bad Request: chat_id is empty")
        if params.get("caption"):
            content["caption"] = params["caption"]
        markup = params.get("reply_markup")
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            content["reply_markup"] = markup
        reply = params.get("reply_parameters")
        reply_id = reply.get("message_id") if isinstance(reply, dict) else None
        reply_id = _int_or_none(reply_id or params.get("reply_to_message_id"))
        with self._cond:
            if reply_id in self._messages:
                content["reply_to_message"] = self._messages[reply_id]
            return self._store(self._message(params["chat_id"], self._bot_user(), content))

    def _edited(self, params: JsonDict, change: JsonDict) -> JsonDict:
        """Apply ``change`` (``reply_markup: None`` removes the keyboard) like Telegram does."""
        with self._cond:
            old = self._messages.get(_int_or_none(params.get("message_id")) or -1)
            if old is None or not _same_chat(old["chat"]["id"], params.get("chat_id")):
                raise _ApiError(400, "Bad Request: message to edit not found")
            if all(old.get(key) == value for key, value in change.items()):
                raise _ApiError(400, "Bad Request: message is not modified")
            new = {**old, **change, "edit_date": int(time.time())}
            if new["reply_markup"] is None:
                del new["reply_markup"]
            self._messages[old["message_id"]] = new
            return new

    def _api_editMessageText(self, req: _Req) -> JsonDict:
        markup = req.params.get("reply_markup")
        change = {"text": _checked_text(req.params)}
        return self._edited(req.params, {**change, "reply_markup": _inline_or_none(markup)})

    def _api_editMessageReplyMarkup(self, req: _Req) -> JsonDict:
        markup = _inline_or_none(req.params.get("reply_markup"))
        return self._edited(req.params, {"reply_markup": markup})

    def _api_deleteMessage(self, req: _Req) -> bool:
        with self._cond:
            message = self._messages.pop(_int_or_none(req.params.get("message_id")) or -1, None)
        if message is None:
            raise _ApiError(400, "Bad Request: message to delete not found")
        return True

    def _api_answerCallbackQuery(self, req: _Req) -> bool:
        qid = str(req.params.get("callback_query_id"))
        with self._cond:
            if qid not in self._callbacks:
                raise _ApiError(400, "Bad Request: query is too old or query ID is invalid")
            self._callbacks[qid] = True
        return True

    def _api_copyMessage(self, req: _Req) -> JsonDict:
        return {"message_id": self._resend(req.params, forward=False)["message_id"]}

    def _api_forwardMessage(self, req: _Req) -> JsonDict:
        return self._resend(req.params, forward=True)

    def _resend(self, params: JsonDict, forward: bool) -> JsonDict:
        with self._cond:
            source = self._messages.get(_int_or_none(params.get("message_id")) or -1)
            if source is None:
                raise _ApiError(400, "Bad Request: message to copy not found")
            skip = ("message_id", "from", "chat", "date", "edit_date")
            content = {k: v for k, v in source.items() if k not in skip}
            if forward:
                origin = {"type": "user", "date": source["date"], "sender_user": source["from"]}
                content["forward_origin"] = origin
            return self._store(self._message(params["chat_id"], self._bot_user(), content))

    def _api_getFile(self, req: _Req) -> JsonDict:
        with self._cond:
            stored = self._files.get(str(req.params.get("file_id")))
        if stored is None:
            raise _ApiError(400, "Bad Request: invalid file_id")
        out = _file_json(stored)
        out.pop("mime_type")
        if stored.data is not None:
            out["file_path"] = stored.file_path
        return out


def _file_json(stored: _File) -> JsonDict:
    out: JsonDict = {
        "file_id": stored.file_id,
        "file_unique_id": f"u{stored.file_id}",
        "mime_type": stored.mime_type,
    }
    if stored.data is not None:
        out["file_size"] = len(stored.data)
    return out


def _checked_text(params: JsonDict) -> str:
    text = str(params.get("text") or "")
    if not text.strip():
        raise _ApiError(400, "Bad Request: message text is empty")
    if _utf16_len(text) > _MAX_TEXT:
        raise _ApiError(400, "Bad Request: message is too long")
    return text


def _inline_or_none(markup: Any) -> JsonDict | None:
    return markup if isinstance(markup, dict) and "inline_keyboard" in markup else None


def _kind(update: JsonDict) -> str:
    return next(k for k in update if k != "update_id")


def _chat_key(chat_id: Any) -> int | str:
    try:
        return int(chat_id)
    except (TypeError, ValueError):
        return str(chat_id)


def _same_chat(a: Any, b: Any) -> bool:
    return a is not None and _chat_key(a) == _chat_key(b)


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _is_text(call: Call) -> bool:
    return call.method in ("sendMessage", "editMessageText")


def _scope_key(params: JsonDict) -> str:
    return json.dumps([params.get("scope"), params.get("language_code")], sort_keys=True)
