"""Telegram adapter (python-telegram-bot 22): updates in, `Reply` values out. Nothing else.

Every message (commands included: the core parses them) becomes an `Incoming`; every pressed
inline button becomes an `Incoming` with its payload, and the callback query is always answered.
Replies are sent as plain text (no parse mode: no Markdown surprises), split under 4,096
characters, with inline buttons (one per row, numbered like the text) or the reply keyboard.
When a reply carries `speak`, a voice note follows the text: synthesised off the event loop,
cached on disk and sent by Telegram `file_id` the second time.

`TELEGRAM_API_URL` (optional) is the root of a Bot API server: `{root}/bot` and `{root}/file/bot`
become the base URLs (a self-hosted Bot API server, or the test stand-in).
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from telegram import (
    BotCommand,
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
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.adapters.channel import RecipientBlocked
from bot.core.dialogue import COMMANDS
from bot.core.formatting import split_text
from bot.core.messages import Incoming, MediaKind, Reply

log = logging.getLogger(__name__)

ERROR_TEXT = "Xin lỗi, tôi vừa gặp sự cố khi xử lý tin nhắn này. Bạn vui lòng thử lại sau ít phút."


def build_application(app: Any) -> Application:
    """The PTB Application for `app` (bot.app.App), not started."""
    settings = app.settings
    builder = (
        ApplicationBuilder()
        .token(settings.telegram_token)
        .concurrent_updates(True)
        .rate_limiter(AIORateLimiter(max_retries=3))
        .post_init(_post_init)
    )
    if settings.telegram_api_url:
        root = settings.telegram_api_url
        builder = builder.base_url(f"{root}/bot").base_file_url(f"{root}/file/bot")
    application = builder.post_stop(stop_background).build()
    application.bot_data["app"] = app
    application.add_handler(CallbackQueryHandler(_on_callback))
    application.add_handler(
        MessageHandler(filters.UpdateType.MESSAGE & ~filters.StatusUpdate.ALL, _on_message)
    )
    application.add_error_handler(_on_error)
    return application


async def _post_init(application: Application) -> None:
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
    commands = [BotCommand(name, desc) for name, desc in COMMANDS]
    try:
        await application.bot.set_my_commands(commands)
    except TelegramError as exc:
        log.warning("setMyCommands failed: %s", exc)


def run_telegram(app: Any) -> int:
    application = build_application(app)
    log.info("Telegram bot starting (long polling)")
    application.run_polling(allowed_updates=Update.ALL_TYPES)
    return 0


# -- updates in -----------------------------------------------------------------------------


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
    media = _media_kind(message)
    file_name = None
    file_bytes = None
    if media == MediaKind.DOCUMENT and message.document is not None:
        file_name = message.document.file_name
        app = context.bot_data["app"]
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
    log.info("message received: kind=%s", media.value if media else "text")
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
    log.info("button pressed")
    await _dispatch(context, incoming, chat_id)


def _is_admin(app: Any, user_id: int) -> bool:
    return user_id in set(app.settings.admins)


async def _dispatch(context: ContextTypes.DEFAULT_TYPE, incoming: Incoming, chat_id: int) -> None:
    app = context.bot_data["app"]
    replies = await asyncio.to_thread(app.engine.handle, incoming)
    await send_replies(context.bot, app, chat_id, replies)


# -- replies out ----------------------------------------------------------------------------


def _inline_markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    rows = []
    for b in reply.buttons:
        label = f"{b.number}. {b.label}" if b.number else b.label
        rows.append([InlineKeyboardButton(label[:64], callback_data=b.payload[:64])])
    return InlineKeyboardMarkup(rows)


def _keyboard_markup(reply: Reply) -> ReplyKeyboardMarkup | None:
    if not reply.keyboard:
        return None
    rows = [[KeyboardButton(label) for label in row] for row in reply.keyboard]
    return ReplyKeyboardMarkup(rows, resize_keyboard=True, is_persistent=True)


async def send_replies(bot: Any, app: Any, chat_id: int, replies: list[Reply]) -> list[int]:
    """Send replies in order; returns the message ids sent (text chunks, then voice).

    A reply whose `meta` has "on_sent" gets it called with the ids of its own messages (e.g.
    to remember which staff-chat message belongs to which ticket).
    """
    all_ids: list[int] = []
    for reply in replies:
        ids: list[int] = []
        target = reply.chat_id if reply.chat_id is not None else chat_id
        chunks = split_text(reply.text) or ["…"]
        inline = _inline_markup(reply)
        keyboard = _keyboard_markup(reply)
        for i, chunk in enumerate(chunks):
            last = i == len(chunks) - 1
            markup: Any = None
            if last:
                markup = inline or keyboard
            elif i == 0 and inline is not None and keyboard is not None:
                markup = keyboard
            sent = await bot.send_message(target, chunk, reply_markup=markup)
            ids.append(sent.message_id)
        if reply.attachment is not None:
            name, data = reply.attachment
            sent = await bot.send_document(target, document=data, filename=name)
            ids.append(sent.message_id)
        if reply.speak:
            await send_voice(bot, app, target, reply.speak)
        on_sent = reply.meta.get("on_sent")
        if on_sent is not None:
            on_sent(ids)
        all_ids.extend(ids)
    return all_ids


async def send_voice(bot: Any, app: Any, chat_id: int, text: str) -> None:
    """Send `text` as a voice note: cached file_id if Telegram has it, else upload and remember."""
    try:
        await bot.send_chat_action(chat_id, ChatAction.RECORD_VOICE)
    except TelegramError:
        pass
    speech = app.speech()
    note = await asyncio.to_thread(speech.prepare, text)
    if note.file_id:
        try:
            await bot.send_voice(chat_id, voice=note.file_id)
            return
        except Forbidden:
            raise
        except BadRequest as exc:
            log.warning("cached voice file_id refused (%s); uploading again", exc.message)
    with open(note.path, "rb") as audio:
        message = await bot.send_voice(chat_id, voice=audio, filename="tra-loi.ogg")
    if message.voice is not None:
        await asyncio.to_thread(speech.remember_file_id, note.key, message.voice.file_id)
    log.info("voice note sent (engine=%s)", note.engine)


async def _on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    error = context.error
    log.error(
        "error while handling an update: %s",
        error.__class__.__name__,
        exc_info=(type(error), error, error.__traceback__) if error else None,
    )
    if isinstance(update, Update) and update.effective_chat is not None:
        try:
            await context.bot.send_message(update.effective_chat.id, ERROR_TEXT)
        except TelegramError:
            pass
