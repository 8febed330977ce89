"""A platform's home screen (e.g. an App Home tab): a guide and what is going on for this user."""

from sqlmodel import col, select

from bot import proposals
from bot.core import Context, Incoming, Reply, Router
from bot.models import OPEN_STATES, ChecklistRun, Proposal, Subscription
from handlers import subscriptions
from handlers.common import reply

router = Router()

RECENT = 5  # activations listed


@router.action("home")
def home(msg: Incoming, ctx: Context) -> Reply:
    """The guide, the user's language, their open checklist, subscriptions, recent activations."""
    checklists = ctx.session.exec(
        select(ChecklistRun).where(
            ChecklistRun.identity == msg.identity, col(ChecklistRun.status).in_(OPEN_STATES)
        )
    ).all()
    subs = ctx.session.exec(
        select(Subscription)
        .where(Subscription.created_by == msg.identity, col(Subscription.active))
        .order_by(col(Subscription.id))
    ).all()
    recent = ctx.session.exec(
        select(Proposal)
        .where(col(Proposal.status).in_(proposals.LIVE))
        .order_by(col(Proposal.endorsed_at).desc())
        .limit(RECENT)
    ).all()
    return reply(
        ctx,
        "help/home.j2",
        native=ctx.kb.languages[ctx.lang].native,
        open_checklists=len(checklists),
        subscriptions=[subscriptions.view(ctx, s) for s in subs],
        activations=[proposals.view(ctx.session, ctx.kb, p, ctx.lang) for p in recent],
    )
