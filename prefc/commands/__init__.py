"""Subcommands beyond check/show/codes. Each module has ``register(subparsers)`` and imports its
heavy dependencies only inside the command function, so building the parser stays cheap."""

COMMAND_MODULES = [
    "solve",
    "compile",
    "runtime",
    "run",
    "report",
    "simulate",
    "diff",
    "export",
    "import_game",
    "authoring",
]
