"""Who is acting from this machine: ``user@host`` with the channel it came through."""

from __future__ import annotations

import getpass
import os
import socket

from nija.domain.transitions import Who


def local_who(source: str) -> Who:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry (containers): fall back to the uid
        user = f"uid{os.getuid()}"
    return Who(actor=f"{user}@{socket.gethostname()}", source=source)
