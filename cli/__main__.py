"""``python -m cli`` runs the ``tradewatch`` command (what its console script runs)."""

from cli.app import main

main()
