"""How WhatsApp writes people and targets: a person is their WhatsApp id (the number's digits)."""

from bot.core import Address

ADDRESS = Address(
    platform="whatsapp",
    person=r"[0-9]{1,20}",
    person_form="whatsapp:WA_ID (the phone number's digits, e.g. whatsapp:4915100000001)",
    target=r"\d{1,20}",  # one person's number: WhatsApp has no groups for bots
    target_form="whatsapp:WA_ID",
    direct=r"\d{1,20}",  # a person's identity is their chat's target
)
