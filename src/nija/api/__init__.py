"""The control plane HTTP API and web control center (``nija serve``).

Kept import-light on purpose: ``nija token`` uses ``nija.api.tokens`` without FastAPI.
The app factory is ``nija.api.app.create_app``."""
