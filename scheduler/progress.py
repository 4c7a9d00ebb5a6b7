"""Live progress of promos: the owner's message is edited every few seconds until done."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from datetime import datetime

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.utils.i18n import I18n

from services.campaigns import CampaignService, Progress
from ui.i18n import tr_in

log = logging.getLogger(__name__)


class CampaignProgress:
    def __init__(
        self,
        campaigns: CampaignService,
        i18n: I18n,
        language: str,
        clock: Callable[[], datetime],
        *,
        every: float = 3.0,
    ) -> None:
        self._campaigns = campaigns
        self._bot: Bot | None = None
        self._i18n = i18n
        self._language = language
        self._clock = clock
        self._every = every
        self._shown: dict[int, str] = {}
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self, bot: Bot) -> None:
        """Begin refreshing (campaigns left running by a restart resume here too)."""
        self._bot = bot
        self._stop.clear()
        self._task = asyncio.create_task(self.run_forever(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            await self._task
            self._task = None

    async def run_once(self) -> None:
        """Refresh every running campaign's message; close the finished ones."""
        for campaign_id in await self._campaigns.running():
            progress = await self._campaigns.progress(campaign_id)
            await self._show(progress)
            if progress.done:
                await self._campaigns.finish(campaign_id, self._clock())
                self._shown.pop(campaign_id, None)

    async def run_forever(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception:  # progress is a courtesy: never let it take the bot down
                log.exception("campaign progress update failed")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=self._every)

    async def _show(self, progress: Progress) -> None:
        if self._bot is None or progress.chat_id is None or progress.message_id is None:
            return
        key = "promo-progress-done" if progress.done else "promo-progress"
        text = tr_in(
            self._i18n,
            progress.language or self._language,
            key,
            done=progress.total - progress.waiting,
            sent=progress.sent,
            total=progress.total,
            blocked=progress.blocked,
            failed=progress.failed,
        )
        if self._shown.get(progress.campaign_id) == text:
            return
        try:
            await self._bot.edit_message_text(
                text=text, chat_id=progress.chat_id, message_id=progress.message_id
            )
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):
                log.warning("progress of campaign %s: %s", progress.campaign_id, exc)
        except TelegramAPIError as exc:
            log.warning("progress of campaign %s: %s", progress.campaign_id, exc)
        self._shown[progress.campaign_id] = text
