"""Settings from environment variables (and an optional .env); read by entry points only."""

from pathlib import Path

from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every setting clusterbot reads; README.md lists them with their meaning."""

    model_config = SettingsConfigDict(env_prefix="CLUSTERBOT_", env_file=".env", extra="ignore")

    database_url: str = f"sqlite:///{Path.cwd() / 'clusterbot.db'}"
    default_language: str = "en"
    log_level: str = "WARNING"
    drafts_dir: Path = Path("drafts")
