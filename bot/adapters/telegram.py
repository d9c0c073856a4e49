"""Telegram adapter (python-telegram-bot 22): updates in, `Reply` values out. Nothing else.

Every message (commands included: the core parses them) becomes an `Incoming`; every pressed
inline button becomes an `Incoming` with its payload, and the callback query is always answered.
Updates are handled concurrently, but one user's updates are handled one after the other, so
their replies arrive in order and the engine never sees two updates of one user at once.
Replies are sent as plain text (no parse mode: no Markdown surprises), split under 4,096
characters, with inline buttons (one per row, numbered like the text) or the reply keyboard.
When a reply carries `speak`, a voice note follows the text: synthesised off the event loop,
cached on disk and sent by Telegram `file_id` the second time.

`TELEGRAM_API_URL` (optional) is the root of a Bot API server: `{root}/bot` and `{root}/file/bot`
become the base URLs (a self-hosted Bot API server, or the test stand-in).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Hashable
from typing import Any

from telegram import (
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    Message,
    ReplyKeyboardMarkup,
    Update,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    BaseRateLimiter,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.channel import RecipientBlocked
from bot.core.formatting import TELEGRAM_LIMIT, split_text
from bot.core.messages import Incoming, MediaKind, Reply

log = logging.getLogger(__name__)

ERROR_TEXT = "Xin lỗi, tôi vừa gặp sự cố khi xử lý tin nhắn này, bạn vui lòng thử lại sau ít phút."
NO_VOICE_TEXT = "Xin lỗi, lúc này tôi chưa đọc to được câu trả lời, bạn vui lòng xem tin nhắn chữ."
KEYBOARD_PLACEHOLDER = "Gõ câu hỏi, hoặc gõ số để chọn"
VOICE_FILE_NAME = "tra-loi.ogg"
_CALLBACK_DATA_BYTES = 64
# Loggers that would print request URLs (which contain the token) at INFO or DEBUG.
_URL_LOGGERS = ("httpx", "httpcore")


def build_application(app: Any, *, rate_limiter: BaseRateLimiter | None = None) -> Application:
    """The PTB Application for `app` (bot.app.App), not started.

    `rate_limiter` defaults to an `AIORateLimiter` with Telegram's flood limits (30 messages a
    second overall, 20 a minute per group) that waits out `retry_after` up to three times.
    """
    for name in _URL_LOGGERS:  # the token is part of every request URL
        logger = logging.getLogger(name)
        if logger.getEffectiveLevel() < logging.WARNING:
            logger.setLevel(logging.WARNING)
    settings = app.settings
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .concurrent_updates(True)
        .rate_limiter(rate_limiter or AIORateLimiter(max_retries=3))
        .post_init(post_init)
        .post_stop(stop_background)
    )
    if settings.telegram_api_url:
        root = settings.telegram_api_url
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    application = builder.build()
    application.bot_data["app"] = app
    application.bot_data["turns"] = _Turns()
    application.add_handler(CallbackQueryHandler(_on_callback))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, _on_message)
    )
    application.add_error_handler(_on_error)
    return application


async def post_init(application: Application) -> None:
    """What `run_polling` does once the bot is initialised: commands, then background jobs."""
    await register_commands(application)
    start_background(application)


def start_background(application: Application) -> None:
    """Start the app's background jobs (broadcast queue, reload watcher) on this loop."""
    app = application.bot_data["app"]
    channel = TelegramChannel(application.bot, app)
    tasks = application.bot_data.setdefault("background_tasks", [])
    for job in app.background:
        tasks.append(asyncio.get_running_loop().create_task(job(channel)))


async def stop_background(application: Application) -> None:
    """Cancel the background jobs and wait for them to end."""
    tasks = application.bot_data.pop("background_tasks", [])
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


class TelegramChannel:
    """`bot.adapters.channel.Channel` over the Bot API."""

    def __init__(self, bot: Any, app: Any) -> None:
        self.bot = bot
        self.app = app

    async def send(self, chat_id: int, reply: Reply) -> list[int]:
        try:
            return await send_replies(self.bot, self.app, chat_id, [reply])
        except Forbidden as exc:
            raise RecipientBlocked(str(exc)) from exc


async def register_commands(application: Application) -> None:
    """`setMyCommands` with the Vietnamese descriptions of the public commands; admins also
    see the admin commands in their own chat's menu (BotCommandScopeChat)."""
    app = application.bot_data["app"]
    public = app.engine.commands()
    commands = [BotCommand(name, desc) for name, desc in public]
    admin_extra = [c for c in app.engine.admin_commands if c[0] not in dict(public)]
    try:
        await application.bot.set_my_commands(commands)
        if admin_extra:
            full = commands + [BotCommand(name, desc) for name, desc in admin_extra]
            for admin_id in app.settings.admins:
                await application.bot.set_my_commands(full, scope=BotCommandScopeChat(admin_id))
    except TelegramError as exc:
        log.warning("setMyCommands failed: %s", exc.__class__.__name__)


def run_telegram(app: Any) -> int:
    application = build_application(app)
    log.info("Telegram bot starting (long polling)")
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


# -- updates in -----------------------------------------------------------------------------


class _Turns:
    """One lock per key (a user, a voice note), alive only while that key has work in flight."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def turn(self, key: Hashable) -> AsyncIterator[None]:
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


# Uploads of one voice note are done one at a time, so users who ask for the same new answer at
# once share one upload (the others send the file_id it got).
_uploads = _Turns()


def _media_kind(message: Message) -> MediaKind | None:
    if message.text is not None:
        return None
    for attr, kind in (
        ("voice", MediaKind.VOICE),
        ("audio", MediaKind.AUDIO),
        ("sticker", MediaKind.STICKER),
        ("photo", MediaKind.PHOTO),
        ("video", MediaKind.VIDEO),
        ("video_note", MediaKind.VIDEO),
        ("animation", MediaKind.VIDEO),
        ("document", MediaKind.DOCUMENT),
        ("location", MediaKind.LOCATION),
        ("contact", MediaKind.CONTACT),
    ):
        if getattr(message, attr, None):
            return kind
    return MediaKind.OTHER


async def _on_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    user = update.effective_user
    if message is None or user is None:
        return
    app = context.bot_data["app"]
    media = _media_kind(message)
    file_name = None
    file_bytes = None
    if media == MediaKind.DOCUMENT and message.document is not None:
        file_name = message.document.file_name
        if _is_admin(app, user.id) and (message.document.file_size or 0) <= 2_000_000:
            tg_file = await message.document.get_file()
            file_bytes = bytes(await tg_file.download_as_bytearray())
    incoming = Incoming(
        user_id=user.id,
        chat_id=message.chat_id,
        text=message.text if media is None else None,
        media=media,
        user_name=user.first_name or "",
        file_name=file_name,
        file_bytes=file_bytes,
        reply_to_message_id=(
            message.reply_to_message.message_id if message.reply_to_message else None
        ),
        message_id=message.message_id,
    )
    log.debug("message received: kind=%s", media.value if media else "text")
    await _dispatch(context, incoming, message.chat_id)


async def _on_callback(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    if query is None:
        return
    try:
        await query.answer()
    except TelegramError as exc:  # an old query cannot be answered any more: carry on
        log.info("callback answer failed: %s", exc.__class__.__name__)
    chat_id = query.message.chat.id if query.message else query.from_user.id
    incoming = Incoming(
        user_id=query.from_user.id,
        chat_id=chat_id,
        payload=query.data or "",
        user_name=query.from_user.first_name or "",
    )
    log.debug("button pressed")
    await _dispatch(context, incoming, chat_id)


def _is_admin(app: Any, user_id: int) -> bool:
    return user_id in set(app.settings.admins)


async def _dispatch(context: ContextTypes.DEFAULT_TYPE, incoming: Incoming, chat_id: int) -> None:
    app = context.bot_data["app"]
    async with context.bot_data["turns"].turn(incoming.user_id):
        replies = await asyncio.to_thread(app.engine.handle, incoming)
        await send_replies(context.bot, app, chat_id, replies)


# -- replies out ----------------------------------------------------------------------------


def _callback_data(payload: str) -> str:
    data = payload.encode("utf-8")
    if len(data) <= _CALLBACK_DATA_BYTES:
        return payload
    log.warning("button payload longer than %d bytes was cut", _CALLBACK_DATA_BYTES)
    return data[:_CALLBACK_DATA_BYTES].decode("utf-8", errors="ignore")


def _inline_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    rows = []
    for b in reply.buttons:
        label = f"{b.number}. {b.label}" if b.number else b.label
        rows.append([InlineKeyboardButton(label, callback_data=_callback_data(b.payload))])
    return InlineKeyboardMarkup(rows)


def _keyboard_markup(reply: Reply) -> ReplyKeyboardMarkup | None:
    if not reply.keyboard:
        return None
    rows = [[KeyboardButton(label) for label in row] for row in reply.keyboard]
    return ReplyKeyboardMarkup(
        rows,
        resize_keyboard=True,
        is_persistent=True,
        input_field_placeholder=KEYBOARD_PLACEHOLDER,
    )


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def message_chunks(text: str) -> list[str]:
    """`text` split at paragraph boundaries into chunks Telegram accepts.

    Telegram counts UTF-16 code units (an emoji counts twice), so the limit shrinks until
    every chunk fits.
    """
    limit = TELEGRAM_LIMIT
    while True:
        chunks = split_text(text, limit) or ["…"]
        if limit <= TELEGRAM_LIMIT // 2 or all(_utf16_len(c) <= TELEGRAM_LIMIT for c in chunks):
            return chunks
        limit = max(TELEGRAM_LIMIT // 2, limit - 512)


def _chunks_and_markups(reply: Reply) -> list[tuple[str, Any]]:
    """Each text chunk with its markup: inline buttons on the last chunk, the reply keyboard on
    the first (a message carries one markup only, so a one-chunk reply with both is cut before
    its last paragraph, the numbered choices)."""
    chunks = message_chunks(reply.text)
    inline = _inline_markup(reply)
    keyboard = _keyboard_markup(reply)
    if inline is not None and keyboard is not None and len(chunks) == 1:
        head, sep, tail = chunks[0].rpartition("\n\n")
        if sep and head.strip() and tail.strip():
            chunks = [head, tail]
    markups: list[Any] = [None] * len(chunks)
    markups[-1] = inline or keyboard
    if inline is not None and keyboard is not None and len(chunks) > 1:
        markups[0] = keyboard
    return list(zip(chunks, markups, strict=True))


async def send_replies(bot: Any, app: Any, chat_id: int, replies: list[Reply]) -> list[int]:
    """Send replies in order; returns the message ids sent (text chunks, then voice).

    A reply whose `meta` has "on_sent" gets it called with the ids of its own messages (e.g.
    to remember which staff-chat message belongs to which ticket).
    """
    all_ids: list[int] = []
    for reply in replies:
        ids: list[int] = []
        target = reply.chat_id if reply.chat_id is not None else chat_id
        for chunk, markup in _chunks_and_markups(reply):
            sent = await bot.send_message(target, chunk, reply_markup=markup)
            ids.append(sent.message_id)
        if reply.attachment is not None:
            name, data = reply.attachment
            sent = await bot.send_document(target, document=data, filename=name)
            ids.append(sent.message_id)
        if reply.speak:
            ids.append(await send_voice(bot, app, target, reply.speak))
        on_sent = reply.meta.get("on_sent")
        if on_sent is not None:
            on_sent(ids)
        all_ids.extend(ids)
    return all_ids


async def send_voice(bot: Any, app: Any, chat_id: int, text: str) -> int:
    """Send `text` as a voice note: the cached file_id if Telegram has it, else upload it and
    remember the file_id. When no engine can speak, says so in one sentence.

    Returns the id of the message sent."""
    with contextlib.suppress(TelegramError):
        await bot.send_chat_action(chat_id, ChatAction.RECORD_VOICE)
    speech = app.speech()
    try:
        note = await asyncio.to_thread(speech.prepare, text)
    except Exception as exc:  # no engine could speak: the text is already there
        log.warning("no voice note (%s)", exc.__class__.__name__)
        sent = await bot.send_message(chat_id, NO_VOICE_TEXT)
        return sent.message_id
    if note.file_id:
        message_id = await _send_voice_by_id(bot, chat_id, note.file_id)
        if message_id is not None:
            return message_id
    async with _uploads.turn(note.key):
        if not note.file_id:  # someone may have uploaded it while we waited
            note = await asyncio.to_thread(speech.prepare, text)
            if note.file_id:
                message_id = await _send_voice_by_id(bot, chat_id, note.file_id)
                if message_id is not None:
                    return message_id
        audio = await asyncio.to_thread(note.path.read_bytes)
        message = await bot.send_voice(
            chat_id, voice=audio, filename=VOICE_FILE_NAME, duration=_duration(audio)
        )
        if message.voice is not None:
            await asyncio.to_thread(speech.remember_file_id, note.key, message.voice.file_id)
    log.info("voice note uploaded (engine=%s)", note.engine)
    return message.message_id


async def _send_voice_by_id(bot: Any, chat_id: int, file_id: str) -> int | None:
    """Re-send a known voice note; None when Telegram no longer knows the file_id."""
    try:
        message = await bot.send_voice(chat_id, voice=file_id)
    except BadRequest as exc:  # Forbidden is not a BadRequest: it propagates
        log.warning("cached voice file_id refused (%s); uploading again", exc.message)
        return None
    log.debug("voice note re-sent by file_id")
    return message.message_id


def _duration(audio: bytes) -> int | None:
    from bot.speech.opus import ogg_duration_seconds

    try:
        return max(1, round(ogg_duration_seconds(audio)))
    except ValueError:
        return None


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    if isinstance(error, Forbidden):  # the user blocked the bot: nobody to tell
        log.info("recipient unreachable: %s", error.__class__.__name__)
        return
    log.error(
        "error while handling an update: %s",
        error.__class__.__name__,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(update.effective_chat.id, ERROR_TEXT)
