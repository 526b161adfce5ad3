"""The user interface: the ``tradewatch`` command, one module per command group (see ``cli.app``)."""
