"""The command menus, per role. Owner commands here are also the ones refused to others."""

from __future__ import annotations

from typing import Final

# (command, id of its description in the locale files)
CUSTOMER_COMMANDS: Final = (
    ("start", "cmd-start"),
    ("me", "cmd-me"),
    ("book", "cmd-book"),
    ("help", "cmd-help"),
    ("cancel", "cmd-cancel"),
    ("stop", "cmd-stop"),
    ("forget", "cmd-forget"),
)

OWNER_COMMANDS: Final = (
    ("inbox", "cmd-inbox"),
    ("sale", "cmd-sale"),
    ("sales", "cmd-sales"),
    ("delsale", "cmd-delsale"),
    ("addcustomer", "cmd-addcustomer"),
    ("services", "cmd-services"),
    ("addservice", "cmd-addservice"),
    ("pair", "cmd-pair"),
    ("settings", "cmd-settings"),
    ("promo", "cmd-promo"),
    ("post", "cmd-post"),
    ("posts", "cmd-posts"),
    ("link", "cmd-link"),
    ("sources", "cmd-sources"),
    ("spend", "cmd-spend"),
    ("birthday", "cmd-birthday"),
    ("hours", "cmd-hours"),
    ("today", "cmd-today"),
    ("waitlist", "cmd-waitlist"),  # issue 13
    ("deposit", "cmd-deposit"),
    ("stats", "cmd-stats"),
    ("cac", "cmd-cac"),
    ("help", "cmd-help"),
    ("cancel", "cmd-cancel"),
)

SHARED_COMMANDS: Final = frozenset({"help", "cancel", "start"})
OWNER_ONLY_COMMANDS: Final = tuple(
    name for name, _ in OWNER_COMMANDS if name not in SHARED_COMMANDS
)
