"""The truth about a kill, said once: whether it is in force, and where, when an activation
could not do everything (the kill file not written, the record not written, a refused
reason). Every front end shows these texts as the service raises or returns them."""

from __future__ import annotations

from nija.domain.codes import ErrorCode
from nija.domain.errors import KillFileNotWritten, KillNotOnDisk, KillNotRecorded, NijaError, StorageProblem
from nija.store.ports import Store


def in_force(store: Store) -> str:
    """Whether a kill is in force now, for a refusal that did not activate one."""
    try:
        active = store.load().kill_active
    except NijaError as exc:
        return f"whether a kill is in force could not be read ({exc.message})"
    return "a kill IS in force (raised earlier)" if active else "no kill is in force"


def unrecorded_flag(problem: str) -> str:
    """A bare kill file a command could not record yet (it stops every order all the same)."""
    return f"the kill file EMERGENCY_STOP is in force but could not be recorded yet: {problem}"


def flag_warning(problem: StorageProblem, stopped: tuple[int, ...]) -> str:
    """The kill is recorded but its file could not be written (an activation's warning)."""
    told = f"; pid {', '.join(map(str, stopped))} was also told directly and stopped trading" if stopped else ""
    return (
        f"The kill file could not be written ({problem.message}); the kill IS IN FORCE through the kill "
        f"switch record{told}"
    )


def not_recorded(
    store: Store, exc: StorageProblem, flag_problem: StorageProblem | None, stopped: tuple[int, ...]
) -> StorageProblem:
    """The refusal for a kill whose record could not be written: is it in force, where?"""
    where = store.location
    if flag_problem is None:
        return KillNotRecorded(
            f"The kill switch IS ACTIVE (its flag is raised in {where}: every order is refused), "
            f"but recording it failed: {exc.message}",
            exc.fix,
        )
    told = f"Trading is stopped in pid {', '.join(map(str, stopped))}. " if stopped else ""
    if (isinstance(flag_problem, KillFileNotWritten) and flag_problem.in_force) or _on_disk(store):
        # A bot told directly may have recorded the kill meanwhile from its own access.
        detail = flag_problem.message if isinstance(flag_problem, KillFileNotWritten) else ""
        return KillNotRecorded(
            f"{told}The kill switch IS ACTIVE in {where} (every order is refused), but this command could "
            f"not fully record it.{f' {detail}.' if detail else ''} Recording failed: {exc.message}",
            exc.fix,
        )
    fix = (
        f"Make {where} writable (df -h for space; mount for a read-only file system; ls -la for "
        "permissions), then run the activation again so that the kill is recorded"
    )
    if stopped:
        pids = ", ".join(map(str, stopped))
        return KillNotOnDisk(
            f"Trading is stopped in pid {pids}, but the kill could not be written to disk: "
            f"{flag_problem.message}; recording it failed too: {exc.message}. The kill is in force only "
            f"in the memory of pid {pids}: a bot started or restarted now would trade",
            f"{fix}; do not restart the bot before that",
            code=ErrorCode.KILL_IN_MEMORY_ONLY,
            stopped_pids=stopped,
        )
    return KillNotOnDisk(
        f"THE KILL IS NOT IN FORCE: it could not be written to disk ({flag_problem.message}; recording "
        f"failed too: {exc.message}) and no running bot of {where} could be told directly",
        f"Stop the bot process yourself now (the pid is in .nija_heartbeat.json; kill PID), then: {fix}",
        code=ErrorCode.KILL_NOT_IN_FORCE,
    )


def _on_disk(store: Store) -> bool:
    try:
        return store.load().kill_active
    except NijaError:
        return False


__all__ = ["flag_warning", "in_force", "not_recorded", "unrecorded_flag"]
