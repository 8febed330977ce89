"""What a webhook target looks like (nobody is a person here: webhooks only go out)."""

from bot.core import Address

ADDRESS = Address(platform="webhook", target=r"https?://\S{1,990}", target_form="webhook:URL")
