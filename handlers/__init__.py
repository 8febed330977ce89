"""Feature handlers, one module per capability a user sees, merged into one router."""

from bot.core import Router
from handlers import (
    checklist,
    concepts,
    help,
    home,
    leads,
    presence,
    proposals,
    records,
    subscriptions,
)


def build_router() -> Router:
    """The router with every handler module's commands, actions and intents."""
    router = Router()
    for module in (
        checklist,
        help,
        home,
        leads,
        concepts,
        presence,
        proposals,
        records,
        subscriptions,
    ):
        router.merge(module.router)
    return router
