"""Slack: Bolt's AsyncApp in (events, /cluster, buttons), Block Kit out, and the outbox sender.

The package's surface is `platform` (the web app's routes and start/stop) and
`outbox_sender` (its outbox notifications), both None when the settings leave Slack off.
Importing the package loads no Slack library: its modules load when the platform is on.

- `mrkdwn`: Slack's escaped text in, the renderer's HTML subset out as mrkdwn
- `blocks`: replies as Block Kit sections, buttons and messages
- `adapter`: SlackAdapter, the Bolt app's listeners (inbox first, then answers)
- `routes`: `/slack/events` with its body-limit and signature checks, the OAuth routes
- `oauth`: slack_sdk's installation and state stores on our engine
- `sender`: SlackSender, and the 429 rules replies follow
- `credentials`: auth.test, the credentials check of /readyz and `clusterbot doctor`
"""

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.platform import Bot, Engine, OnFatal, Platform, Probe, Renderer, Sender, Settings


ORDER = 2
SETTINGS_HINT = "SLACK_BOT_TOKEN (or SLACK_CLIENT_ID) with SLACK_SIGNING_SECRET"
SENDER_HINT = SETTINGS_HINT  # its sender needs the same


def serves(settings: "Settings") -> bool:
    """Whether the settings turn this chat platform on."""
    return settings.slack_configured


def platform(
    bot: "Bot", settings: "Settings", on_fatal: "OnFatal | None" = None
) -> "Platform | None":
    """Slack's routes and start/stop when it is configured, else None."""
    if not serves(settings):
        return None
    from bot.adapters.slack.routes import slack_platform

    return slack_platform(bot, settings)


def outbox_sender(settings: "Settings", renderer: "Renderer", engine: "Engine") -> "Sender | None":
    """The outbox's sender for `slack:` targets when Slack is configured, else None."""
    if not settings.slack_configured:
        return None
    from bot.adapters.slack.oauth import ThreadedInstallationStore
    from bot.adapters.slack.sender import SlackSender

    installations = ThreadedInstallationStore(engine) if settings.slack_client_id else None
    return SlackSender(
        renderer,
        token=settings.slack_bot_token,
        api_url=settings.slack_api_url,
        installations=installations,
    )


PROBE_FIX = (
    "check SLACK_BOT_TOKEN (the app's OAuth & Permissions page: Bot User OAuth Token, "
    "xoxb-...; reinstall the app if it was revoked) and that this machine reaches "
    "SLACK_API_URL (default https://slack.com/api/)"
)


def probe(settings: "Settings") -> "Probe | None":
    """auth.test with the bot token; an OAuth app's tokens are checked as they are used."""
    if not settings.slack_configured:
        return None
    token = settings.slack_bot_token
    if not token:

        async def oauth() -> tuple[bool, str]:
            return True, "OAuth app: each workspace's token is checked as it is used"

        return oauth
    from bot.adapters.slack.credentials import auth_test

    api = settings.slack_api_url
    return lambda: auth_test(token, api)


def secrets(settings: "Settings") -> list[str | None]:
    """What Slack's log lines must never show."""
    return [
        settings.slack_bot_token,
        settings.slack_signing_secret,
        settings.slack_client_secret,
        settings.slack_app_token,
    ]
