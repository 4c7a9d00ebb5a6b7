"""Deployment settings: read once from the environment or `.env` at start-up.

Business knobs (margin, cycle lead days, cashback …) are not here: the owner edits them in chat
and they live in the database.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_core import PydanticUseDefault
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

DEFAULT_DATABASE_URL = "sqlite+aiosqlite:///./data/bot.db"

# What Telegram accepts as a webhook's secret_token: 1-256 of A-Z a-z 0-9 _ -.
_WEBHOOK_SECRET = re.compile(r"[A-Za-z0-9_-]{1,256}")

# Plain URLs people copy from hosting panels, mapped to the async drivers we ship.
_DRIVER_PREFIXES = {
    "sqlite+aiosqlite://": "sqlite+aiosqlite://",
    "sqlite://": "sqlite+aiosqlite://",
    "postgresql+asyncpg://": "postgresql+asyncpg://",
    "postgresql://": "postgresql+asyncpg://",
    "postgres://": "postgresql+asyncpg://",
}


def async_database_url(value: str) -> str:
    """The URL with the async driver we ship; ValueError (one line) for anything else."""
    for prefix, driver in _DRIVER_PREFIXES.items():
        if value.startswith(prefix):
            return driver + value[len(prefix) :]
    scheme = value.split(":", 1)[0] or "(empty)"
    raise ValueError(
        f"unsupported database {scheme!r}; use sqlite:///path.db or postgresql://user@host/db"
    )


class SettingsError(Exception):
    """A bad setting, described in one line that names it."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        env_ignore_empty=True,  # an empty line in .env means "use the default"
        extra="ignore",
        frozen=True,
    )

    bot_token: SecretStr | None = None
    owner_ids: Annotated[tuple[int, ...], NoDecode] = ()
    database_url: str = DEFAULT_DATABASE_URL
    # None means Telegram's own server; a URL points the bot at a self-hosted Bot API server
    # (or at the fake server the tests run on 127.0.0.1).
    telegram_api_url: str | None = None
    timezone: str = "Europe/Moscow"
    channel_id: int | None = None
    redis_url: str | None = None
    # Several instances of one bot: their Telegram budget (~30 messages/s, 1/s per chat) is
    # kept here and spent together. Unset: each process paces itself (one instance).
    rate_limit_redis_url: str | None = None
    default_language: Literal["ru", "en"] = "ru"
    # An unfinished conversation (and the personal data it holds) expires this long after
    # its last step; Redis enforces it. The in-memory storage is emptied by every restart.
    fsm_ttl_hours: int = Field(default=24, ge=1, le=24 * 30)
    # SQLite: a backup a day into this folder, the newest `backup_keep` kept (0: none).
    backup_dir: Path = Path("data/backups")
    backup_keep: int = Field(default=7, ge=0, le=365)
    # Webhook mode (`run --webhook`): Telegram posts updates to WEBHOOK_URL (https, behind a
    # reverse proxy that forwards its path to WEB_HOST:WEB_PORT), with WEBHOOK_SECRET in a header.
    webhook_url: str | None = None
    webhook_secret: SecretStr | None = None
    web_host: str = "127.0.0.1"
    web_port: int = Field(default=8080, ge=1, le=65535)
    # Polling mode: also serve /healthz, /readyz and /metrics on WEB_HOST:WEB_PORT
    # (webhook mode always serves them next to the webhook).
    health_server: bool = False
    # /readyz fails when a due outbox message has waited longer than this: the worker is stuck.
    ready_outbox_delay_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # issue 12: the Mini App, served by the bot's own web server at WEBAPP_URL (https; a reverse
    # proxy forwards its /app path to WEB_HOST:WEB_PORT). Unset: no Mini App, no menu button.
    webapp_url: str | None = None
    # Telegram's launch data older than this is refused (a leaked link stops working).
    webapp_auth_max_age_hours: int = Field(default=24, ge=1, le=24 * 30)

    @field_validator("*", mode="before")
    @classmethod
    def _trimmed(cls, value: object) -> object:
        """`TIMEZONE="Europe/Moscow "` is what people paste: surrounding spaces never matter."""
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        if isinstance(value, str):
            value = value.strip()
            if not value:
                raise PydanticUseDefault  # a blank value means "use the default", as empty does
        return value

    @field_validator("owner_ids", mode="before")
    @classmethod
    def _split_owner_ids(cls, value: object) -> object:
        if isinstance(value, str):
            parts = [p.strip() for p in value.replace(";", ",").split(",") if p.strip()]
            ids = []
            for part in parts:
                if not part.lstrip("-").isdigit():
                    raise ValueError(f"{part!r} is not a numeric Telegram user id")
                ids.append(int(part))
            return tuple(ids)
        if isinstance(value, int):
            return (value,)
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}; use an IANA name such as Europe/Moscow"
            ) from None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return async_database_url(value)

    @field_validator("channel_id", mode="before")
    @classmethod
    def _numeric_channel(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            if not value:
                return None
            if not value.lstrip("-").isdigit():
                raise ValueError(
                    "use the channel's numeric id, such as -1001234567890 "
                    "(forward a post from the channel to @userinfobot to see it)"
                )
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value in (None, ""):
            return None
        assert value is not None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    @field_validator("redis_url", "rate_limit_redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis:// or rediss://")
        return value

    @field_validator("webhook_url")
    @classmethod
    def _https_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "Telegram posts only to https:// addresses, such as https://bot.example.com/webhook"
            )
        return value

    @field_validator("webapp_url")
    @classmethod
    def _https_webapp_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            raise ValueError(
                "Telegram opens Mini Apps only from https:// addresses, such as "
                "https://bot.example.com/app"
            )
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _secret_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not _WEBHOOK_SECRET.fullmatch(value.get_secret_value()):
            raise ValueError(
                "use 1-256 characters A-Z, a-z, 0-9, _ and - only "
                "(e.g. the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))')"
            )
        return value

    @property
    def webhook_path(self) -> str:
        """Where the web app listens for updates: the path of WEBHOOK_URL (a proxy forwards it)."""
        path = urlsplit(self.webhook_url).path if self.webhook_url else "/webhook"
        return path or "/"

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning pydantic's report into one line per bad setting."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            name = str(error["loc"][0]).upper() if error["loc"] else "settings"
            message = str(error["msg"]).removeprefix("Value error, ")
            lines.append(f"Setting {name}: {message}")
        raise SettingsError("\n".join(lines)) from None
