"""Integrations with bots NIJA does not run, through their documented extension points."""
