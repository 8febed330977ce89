"""The whole activation path: checklist, proposal, endorsement, and the partners' groups told.

Chat through the bot, then the real dispatcher delivers through the real PTB to the Telegram
stand-in; the proposal is announced once every partner notification went out.
"""

import asyncio
from collections.abc import Callable

import pytest
from sqlmodel import select

from bot.adapters.telegram.sender import TelegramSender
from bot.db import session_scope
from bot.domain import roles, subscriptions
from bot.models import Notification, Proposal
from tests.conftest import Chat
from tests.fakes.telegram_api import TOKEN, FakeTelegram
from tests.test_checklist import EN_LINES, ZH_LINES


@pytest.mark.parametrize(
    ("lines", "endorsed"), [(EN_LINES, "The IASC Principals endorsed"), (ZH_LINES, "已核可")]
)
def test_checklist_to_partners_told(
    chat_as: Callable[..., Chat], fake_telegram: FakeTelegram, lines: list[str], endorsed: str
) -> None:
    hc, erc = chat_as("telegram:10"), chat_as("telegram:20")
    bot = hc.bot
    with session_scope(bot.engine) as session:  # type: ignore[arg-type]
        roles.grant(session, hc.user, "hc")
        roles.grant(session, erc.user, "erc")
        subscriptions.add(session, "telegram:-100", "SD", ["health"], "zh")
        subscriptions.add(session, "telegram:-200", "SD", [], "en")
        subscriptions.add(session, "telegram:-300", "TD", [], "en")  # Chad: not told
    for line in lines:
        hc(line)

    def press(chat: Chat, index: int = 0) -> str:
        assert chat.last is not None and chat.last.choices, chat.replies
        return chat(action=chat.last.choices[index].action)

    press(hc)  # create the proposal from the finished checklist
    press(hc)  # submit ...
    press(hc)  # ... confirmed
    erc("/forward 1")
    press(erc)
    erc("/endorse 1")
    # Queued, not sent: only the dispatcher sends, and this reply says no more than that.
    assert "2 notices to subscribed partner chats are queued" in press(erc)

    sender = TelegramSender(bot.renderer, TOKEN, api_url=fake_telegram.url, per_second=200)
    stats = asyncio.run(bot.dispatcher([sender]).run_once())

    assert stats.rate_limited == 0
    zh_group = [c.text for c in fake_telegram.of("sendMessage", -100)]
    en_group = [c.text for c in fake_telegram.of("sendMessage", -200)]
    assert len(zh_group) == 1 and "苏丹" in zh_group[0] and "世界卫生组织" in zh_group[0]
    assert len(en_group) == 1 and "Cluster activation endorsed: Sudan" in en_group[0]
    assert not fake_telegram.of("sendMessage", -300)
    # The ERC heard of the submission; the proposer of the endorsement, in their language.
    assert "was submitted to the ERC" in fake_telegram.of("sendMessage", 20)[0].text
    assert endorsed in fake_telegram.of("sendMessage", 10)[-1].text
    with session_scope(bot.engine) as session:  # type: ignore[arg-type]
        assert session.get(Proposal, 1).status == "announced"  # type: ignore[union-attr]
        statuses = {n.status for n in session.exec(select(Notification))}
    assert statuses == {"sent"}
    # Running again sends nothing twice.
    asyncio.run(bot.dispatcher([sender]).run_once())
    assert len(fake_telegram.of("sendMessage", -100)) == 1
