"""How Slack writes people and channels: what its identities and notification targets look like."""

from bot.core import Address

ADDRESS = Address(
    platform="slack",
    person="[TE][A-Z0-9]+:[UW][A-Z0-9]+",
    person_form="slack:TEAM_ID:USER_ID (e.g. slack:T0123ABCD:U0456EFGH)",
    target="[A-Z0-9]{1,20}:[A-Z0-9]{1,20}",
    target_form="slack:TEAM:CHANNEL",
    direct="[^:]*:[^:]*",  # chat.postMessage to a user id opens the DM with them
)
