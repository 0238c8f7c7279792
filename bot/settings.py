"""The process's settings, from the environment and .env: beside the event file's models
(bot/config.py), so that a command that reads no setting (`hackbot leaderboard --config F --db D`)
does not import pydantic_settings (a tenth of its run)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """The process's environment: secrets and where things are. Built in main, passed down."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    discord_token: SecretStr | None = None
    hackbot_config: Path | None = None  # no default event: commands ask for one (only `demo` has its own)
    # a SQLite file or a postgresql:// URL (a Path would mangle a URL); None: .hackbot/<event file name>.sqlite3
    hackbot_db: str | None = None
    hackbot_guild_id: int | None = None
    hackbot_host: str = "127.0.0.1"
    hackbot_port: int = 8080
    hackbot_public_url: str | None = None  # what participants type, e.g. https://lb.example.org
    hackbot_discord_api: str | None = None  # a Discord-API double (bot/sandbox), e.g. http://127.0.0.1:8765
    # the winners' emails (bot/core/mail.py); no host: no email is sent, the notices say so
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_starttls: bool = True
    github_token: SecretStr | None = None  # repository checks: 5,000 GitHub requests an hour instead of 60
    hackbot_github_api: str | None = None  # a GitHub double (bot/sandbox/github.py); default https://api.github.com
    # proxies whose X-Forwarded-For names the client (the login limiter): "127.0.0.1, 10.0.0.0/8"
    hackbot_trusted_proxies: str | None = None
    # worker processes that build the leaderboard (bot/web/boards.py), so that rebuilding a large board
    # never takes the web process's CPU; 0: built in a thread of the web process
    hackbot_board_processes: int = Field(default=1, ge=0, le=8)
    hackbot_lease_ttl: float = Field(default=15.0, gt=0, le=300)  # the gateway lease: seconds a holder may go unrenewed

    @field_validator("discord_token", "github_token", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value
