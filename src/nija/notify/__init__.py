"""Safety alerts through apprise (Telegram, Slack, Discord, e-mail, webhooks), sent in the background."""

from __future__ import annotations

from nija.notify.message import Message, message_for
from nija.notify.sender import Notifier
from nija.notify.settings import DEFAULT_EVENTS, NotificationSettings

__all__ = ["DEFAULT_EVENTS", "Message", "NotificationSettings", "Notifier", "message_for"]
