"""Who is acting from this machine, as the operating system vouches for it.

The actor is the account name of the process's real uid (``pwd``), never ``$USER`` or
``$LOGNAME``, which anyone can set; the principal is ``uid:N@host``. Standard library only
at import: the emergency path (``nija.emergency``) names the actor before loading NIJA."""

from __future__ import annotations

import os
import pwd

TYPE_CHECKING = False  # typing itself costs the emergency path milliseconds
if TYPE_CHECKING:
    from nija.domain.transitions import Who


def _host() -> str:
    # What socket.gethostname() answers on POSIX (gethostname(2) is uname's nodename),
    # without importing socket and enum.
    return os.uname().nodename


def local_principal() -> str:
    return f"uid:{os.getuid()}@{_host()}"


def local_actor() -> str:
    uid = os.getuid()
    try:
        user = pwd.getpwuid(uid).pw_name
    except KeyError:  # no passwd entry (containers): the uid is all the system knows
        user = f"uid{uid}"
    return f"{user}@{_host()}"


def local_who(source: str) -> Who:
    from nija.domain.transitions import Who

    return Who(actor=local_actor(), source=source, principal=local_principal())
