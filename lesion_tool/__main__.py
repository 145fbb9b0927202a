"""``python -m lesion_tool`` runs the command line."""

from lesion_tool.cli import main

raise SystemExit(main())
