"""The bot runtime: feed -> strategy -> risk -> order gate -> broker, with a kill watcher.

Kept import-light: ``nija.config`` imports ``nija.runtime.settings``."""
