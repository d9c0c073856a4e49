"""The outgoing side of a channel, for features that send on their own (not as a reply).

A broadcast or a staff reply relayed to a user is sent through a `Channel`: the Telegram
adapter implements it over the Bot API; tests and the console can implement it too.
"""

from __future__ import annotations

from typing import Protocol

from bot.core.messages import Reply


class RecipientBlocked(Exception):
    """The recipient blocked the bot or deleted the chat (Telegram 403): stop sending to them."""


class Channel(Protocol):
    async def send(self, chat_id: int, reply: Reply) -> list[int]:
        """Send one reply (text, buttons, and a voice note when `reply.speak` is set).

        Returns the ids of the messages sent.

        Raises RecipientBlocked when the recipient cannot be reached any more. Flood limits
        (HTTP 429 with retry_after) are waited out inside.
        """
        ...
