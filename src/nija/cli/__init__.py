"""Command-line entry points; the root scripts are thin shims onto these."""
