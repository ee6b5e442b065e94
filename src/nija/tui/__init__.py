"""The terminal control center (``nija_control_center.py``, ``nija monitor``).

Modules: ``frame`` (what is shown, parsed from the shared JSON views), ``backend``
(the seam), ``local`` and ``remote`` (data directory or HTTP API), ``render`` (panels
and the plain-text snapshot), ``screens`` (dialogs) and ``app`` (the Textual app).
Nothing is imported here so that other commands never pay for loading Textual."""
