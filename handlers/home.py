"""A platform's home screen (e.g. an App Home tab): a guide and what is going on for this user."""

from bot.core import Context, Incoming, Reply, Router
from bot.domain import proposals
from bot.domain import subscriptions as bot_subscriptions
from handlers import subscriptions
from handlers.common import language_name, reply

router = Router()

RECENT = 5  # activations listed


@router.action("home")
def home(msg: Incoming, ctx: Context) -> Reply:
    """The guide, the user's language, their open checklist, subscriptions, recent activations."""
    subs = bot_subscriptions.made_by(ctx.session, msg.identity)
    recent = proposals.recent_activations(ctx.session, RECENT)
    return reply(
        ctx,
        "help/home.j2",
        native=language_name(ctx.lang),
        open_checklists=proposals.open_checklists(ctx.session, msg.identity),
        subscriptions=[subscriptions.view(ctx, s) for s in subs],
        activations=[proposals.view(ctx.session, ctx.kb, p, ctx.lang) for p in recent],
    )
