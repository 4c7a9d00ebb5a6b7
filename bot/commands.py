"""The command menus, per role. Owner commands here are also the ones refused to others."""

from __future__ import annotations

from typing import Final

# (command, id of its description in the locale files)
CUSTOMER_COMMANDS: Final = (
    ("start", "cmd-start"),
    ("me", "cmd-me"),
    ("help", "cmd-help"),
    ("cancel", "cmd-cancel"),
)

OWNER_COMMANDS: Final = (
    ("sale", "cmd-sale"),
    ("sales", "cmd-sales"),
    ("delsale", "cmd-delsale"),
    ("addcustomer", "cmd-addcustomer"),
    ("services", "cmd-services"),
    ("addservice", "cmd-addservice"),
    ("help", "cmd-help"),
    ("cancel", "cmd-cancel"),
)

SHARED_COMMANDS: Final = frozenset({"help", "cancel", "start"})
OWNER_ONLY_COMMANDS: Final = tuple(
    name for name, _ in OWNER_COMMANDS if name not in SHARED_COMMANDS
)
