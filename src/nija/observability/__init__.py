"""Metrics (``nija.observability.metrics``, prometheus-client) and structured logs
(``nija.observability.logs``, structlog).

Nothing is imported here on purpose: every CLI command builds a service, and importing
structlog or prometheus-client costs ~0.1 s each, so they load only when used."""
