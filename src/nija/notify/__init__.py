"""Safety alerts through apprise (Telegram, Slack, Discord, e-mail, webhooks), sent in the
background: ``nija.notify.settings`` (the [notifications] section), ``nija.notify.sender``
(the Notifier listener), ``nija.notify.message`` (what is sent). Nothing is imported here
so that a command without notifications configured does not pay for apprise or structlog."""
