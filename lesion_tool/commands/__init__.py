"""Subcommands of the ``lesion-tool`` CLI: one module each, with ``register(subparsers)``."""
