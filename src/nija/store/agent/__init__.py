"""The host agent: one fleet-database connection for all the bots of a host.

``nija agent`` (``server.HostAgent``) holds the host's only connection, LISTENs, re-reads
the permission rows of every bot it serves in one query, and pushes them over a Unix
socket. A bot whose ``nija.toml`` says ``[store] agent = "/run/nija/agent.sock"`` reads
its permission view and change feed from there (``client``) and sends its heartbeats
there; its rare writes (transitions, kills) use a short connection of its own."""

from __future__ import annotations

from nija.store.agent.client import AgentPermissionView
from nija.store.agent.store import AgentStore

__all__ = ["AgentPermissionView", "AgentStore"]
