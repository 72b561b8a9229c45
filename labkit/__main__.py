"""``python -m labkit`` runs the command line."""

from labkit.cli import main

raise SystemExit(main())
