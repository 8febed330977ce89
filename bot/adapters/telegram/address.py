"""How Telegram writes people and chats: what its identities and notification targets look like."""

from bot.core import Address

ADDRESS = Address(
    platform="telegram",
    person="[0-9]+",
    person_form="telegram:USER_ID (digits, e.g. telegram:123456789)",
    target=r"-?\d{1,20}",  # a private chat, a group (negative) or a channel
    target_form="telegram:CHAT_ID",
    direct=r"-*\d+",  # a private chat's id is the user's id
)
