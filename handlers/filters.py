"""Magic filters shared by several routers."""

from __future__ import annotations

from aiogram import F

# Text typed as an answer in a form; a command ("/services") is never taken for an answer.
ANSWER = F.text & ~F.text.startswith("/")
