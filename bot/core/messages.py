"""The values that cross the line between a channel adapter and the core.

An adapter turns what a user did (typed text, pressed a button, sent a sticker) into an
`Incoming`, and renders the `Reply` values the core returns. Nothing here knows Telegram.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class MediaKind(StrEnum):
    """What a non-text message held."""

    VOICE = "voice"
    AUDIO = "audio"
    STICKER = "sticker"
    PHOTO = "photo"
    VIDEO = "video"
    DOCUMENT = "document"
    LOCATION = "location"
    CONTACT = "contact"
    OTHER = "other"


@dataclass(frozen=True)
class Incoming:
    """One thing a user did. Exactly one of `text`, `payload`, `media` is set.

    `payload` is the data of a pressed inline button. `user_id` is the channel's user id; the
    core never shows it to anyone. `file_name` / `file_bytes` carry an uploaded document when the
    adapter fetched it (admin uploads).
    """

    user_id: int
    chat_id: int
    text: str | None = None
    payload: str | None = None
    media: MediaKind | None = None
    user_name: str = ""
    file_name: str | None = None
    file_bytes: bytes | None = None
    reply_to_message_id: int | None = None
    message_id: int | None = None


@dataclass(frozen=True)
class Button:
    """A choice. `label` is plain words (never emoji only); `payload` goes back to the core.

    `number` is the number the user can type instead of pressing the button (0 = none).
    """

    label: str
    payload: str
    number: int = 0


@dataclass(frozen=True)
class Reply:
    """One message for the user.

    - `text`: plain text, no markup; the adapter splits it if it is too long.
    - `buttons`: inline choices under this message (each also listed as a numbered line).
    - `keyboard`: rows of plain-word buttons for the persistent reply keyboard (None = keep).
    - `speak`: the text to read aloud when the user has voice on (None = do not speak).
    - `chat_id`: send to another chat than the user's (staff chat, broadcast); None = the user.
    - `attachment`: a file to send (name, bytes), e.g. an export.
    """

    text: str
    buttons: tuple[Button, ...] = ()
    keyboard: tuple[tuple[str, ...], ...] | None = None
    speak: str | None = None
    chat_id: int | None = None
    attachment: tuple[str, bytes] | None = None
    meta: dict = field(default_factory=dict, compare=False)
