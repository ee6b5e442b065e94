"""Who is acting from this machine, as the operating system vouches for it.

The actor is the account name of the process's real uid (``pwd``), never ``$USER`` or
``$LOGNAME``, which anyone can set; the principal is ``uid:N@host``."""

from __future__ import annotations

import os
import pwd
import socket

from nija.domain.transitions import Who


def local_principal() -> str:
    return f"uid:{os.getuid()}@{socket.gethostname()}"


def local_who(source: str) -> Who:
    uid = os.getuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (containers): the uid is all the system knows
        user = f"uid{uid}"
    return Who(actor=f"{user}@{socket.gethostname()}", source=source, principal=local_principal())
