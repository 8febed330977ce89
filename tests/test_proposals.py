"""Activation proposals: who may move them, the path from checklist to announcement, and effects."""

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from bot.app import Bot
from bot.core import Reply
from bot.db import session_scope, upgrade
from bot.domain import proposals, roles, subscriptions, verification
from bot.domain.proposals import MOVES, Refused
from bot.models import (
    ROLES,
    CountryCluster,
    Notification,
    Proposal,
    ProposalCluster,
    User,
    utcnow,
)
from bot.render import translate
from knowledge import KnowledgeBase
from tests.conftest import Chat, _postgres_engine, sh
from tests.test_checklist import CO_LED_WALK, EN_LINES, ZH_LINES

STATE_BEFORE = {
    "submit": "draft",
    "forward": "submitted",
    "endorse": "forwarded",
    "return": "submitted",
    "plan_deactivation": "endorsed",
    "deactivate": "endorsed",
}
MAY = {
    "create": {"admin", "coordinator", "hc"},
    "submit": {"admin", "hc"},
    "forward": {"admin", "erc"},
    "endorse": {"admin", "erc"},
    "return": {"admin", "erc"},
    "plan_deactivation": {"admin", "coordinator", "hc"},
    "deactivate": {"admin", "hc"},
}


def _people(session: Session) -> dict[str, User]:
    return {role: roles.grant(session, f"telegram:{i + 1}", role) for i, role in enumerate(ROLES)}


def _draft(session: Session, kb: KnowledgeBase, by: User, *clusters: str) -> Proposal:
    return proposals.create(
        session, kb, by, "SD", {c: ("", "") for c in clusters or ("health",)}, "Floods"
    )


@pytest.mark.parametrize("move", sorted(MOVES))
@pytest.mark.parametrize("role", ROLES)
def test_permission_matrix(engine: Engine, kb: KnowledgeBase, move: str, role: str) -> None:
    with session_scope(engine) as session:
        people = _people(session)
        p = _draft(session, kb, people["admin"])
        p.status = STATE_BEFORE[move]
        cluster = "health" if MOVES[move].per_cluster else ""
        if move == "deactivate":
            proposals.apply(
                session, kb, p.id or 0, people["admin"], "plan_deactivation", "x", "health"
            )
        if role in MAY[move]:
            moved = proposals.apply(session, kb, p.id or 0, people[role], move, "why", cluster)
            if cluster:
                # A per-cluster move changes that cluster's state, not the proposal's.
                row = session.exec(
                    select(ProposalCluster).where(
                        ProposalCluster.proposal_id == moved.id, ProposalCluster.cluster == cluster
                    )
                ).one()
                assert row.status == MOVES[move].to_state
            else:
                assert moved.status == MOVES[move].to_state
        else:
            with pytest.raises(Refused) as refused:
                proposals.apply(session, kb, p.id or 0, people[role], move, "why", cluster)
            assert refused.value.reason == "not_allowed"
            assert set(refused.value.details["roles"]) == MAY[move]


@pytest.mark.parametrize("role", ROLES)
def test_who_may_create(engine: Engine, kb: KnowledgeBase, role: str) -> None:
    with session_scope(engine) as session:
        person = _people(session)[role]
        if role in MAY["create"]:
            assert _draft(session, kb, person).status == "draft"
        else:
            with pytest.raises(Refused, match="not_allowed"):
                _draft(session, kb, person)


def test_moves_out_of_order_are_refused(engine: Engine, kb: KnowledgeBase) -> None:
    with session_scope(engine) as session:
        people = _people(session)
        p = _draft(session, kb, people["hc"])
        for move in ("forward", "endorse", "return"):
            with pytest.raises(Refused, match="wrong_state"):
                proposals.apply(session, kb, p.id or 0, people["erc"], move, "note")
        with pytest.raises(Refused, match="note_needed"):
            proposals.apply(session, kb, p.id or 0, people["hc"], "submit")
            proposals.apply(session, kb, p.id or 0, people["erc"], "return", "  ")


def test_endorsing_twice_notifies_once_and_updates_country_records(
    any_engine: Engine, kb: KnowledgeBase
) -> None:
    with session_scope(any_engine) as session:
        people = _people(session)
        subscriptions.add(session, "telegram:-100", "SD", ["health"], "fr")
        subscriptions.add(session, "slack:T1:C1", None, [], "en")
        subscriptions.add(session, "telegram:-200", "SD", ["shelter"], "en")  # other cluster
        subscriptions.add(session, "telegram:-300", "HT", [], "en")  # other country
        p = _draft(session, kb, people["coordinator"], "health", "nutrition")
        pid = p.id or 0
        for who, move in (("hc", "submit"), ("erc", "forward"), ("erc", "endorse")):
            proposals.apply(session, kb, pid, people[who], move)
    with session_scope(any_engine) as session, pytest.raises(Refused, match="wrong_state"):
        proposals.apply(session, kb, pid, people["erc"], "endorse")
    with session_scope(any_engine) as session:
        fan_out = select(Notification).where(col(Notification.subscription_id).is_not(None))
        sent = session.exec(fan_out).all()
        assert sorted(n.target for n in sent) == ["slack:T1:C1", "telegram:-100"]
        french = next(n for n in sent if n.target == "telegram:-100")
        assert french.lang == "fr" and french.data["country"]["name"] == "Soudan"
        records = {
            r.cluster: r
            for r in session.exec(select(CountryCluster).where(CountryCluster.country == "SD"))
        }
        assert records["health"].lead == "WHO" and records["nutrition"].lead == "UNICEF"
        assert f"Activation proposal #{pid}" in records["health"].source
        # Where it came from, and who confirmed it when: the ERC who recorded the endorsement.
        health = records["health"]
        assert (health.origin, health.confirmed_by) == (f"proposal:{pid}", people["erc"].identity)
        assert health.confirmed_at is not None and health.confirmed_at.tzinfo is not None


def test_country_question_answers_from_the_endorsed_arrangement(
    chat_as: Callable[..., Chat], engine: Engine, kb: KnowledgeBase
) -> None:
    with session_scope(engine) as session:
        people = _people(session)
        p = proposals.create(session, kb, people["hc"], "SD", {"health": ("IOM", "NRC")})
        for who, move in (("hc", "submit"), ("erc", "forward"), ("erc", "endorse")):
            proposals.apply(session, kb, p.id or 0, people[who], move)
    answer = chat_as("console:someone")("who leads health in Sudan")
    assert "Lead: IOM" in answer and "Co-lead: NRC" in answer


def test_reminders_and_announcement(engine: Engine, kb: KnowledgeBase) -> None:
    with session_scope(engine) as session:
        people = _people(session)
        subscriptions.add(session, "telegram:-100", "SD", [], "en")
        p = _draft(session, kb, people["hc"])
        pid = p.id or 0
        proposals.apply(session, kb, pid, people["hc"], "submit")
        proposals.tick(session, kb)  # not due yet
        assert not _keys(session, "forward_overdue")
        proposals.tick(session, kb, utcnow() + timedelta(hours=25))
        reminded = _keys(session, "forward_overdue")
        # the ERC role holders and the submitter (the admin holds no ERC role)
        assert sorted(n.target for n in reminded) == ["telegram:3", "telegram:4"]
        proposals.tick(session, kb, utcnow() + timedelta(hours=50))
        assert len(_keys(session, "forward_overdue")) == 2  # once, not every round
        for move in ("forward", "endorse"):
            proposals.apply(session, kb, pid, people["erc"], move)
        proposals.tick(session, kb)
        assert session.get(Proposal, pid).status == "endorsed"  # type: ignore[union-attr]
        for n in _keys(session, "endorsed"):
            n.status = "sent"
            session.add(n)
        proposals.tick(session, kb)
        assert session.get(Proposal, pid).status == "announced"  # type: ignore[union-attr]
        proposals.tick(session, kb, utcnow() + timedelta(days=91))
        assert [n.target for n in _keys(session, "plan_overdue")] == ["telegram:2"]


def _keys(session: Session, prefix: str) -> list[Notification]:
    rows = session.exec(select(Notification)).all()
    return [n for n in rows if n.key.startswith(prefix + ":")]


def _grant(chat: Chat, role: str) -> None:
    with session_scope(chat.bot.engine) as session:  # type: ignore[arg-type]
        roles.grant(session, chat.user, role)


def _propose_as_coordinator(chat: Chat, args: str) -> str:
    """`/propose ARGS` from a coordinator, who may create proposals: the reply."""
    _grant(chat, "coordinator")
    return chat(f"/propose {args}")


def _chat_with_role(chat_as: Callable[..., Chat], identity: str, role: str) -> Chat:
    """A chat as `identity`, who has been granted `role`: the proposal moves need one."""
    chat = chat_as(identity)
    _grant(chat, role)
    return chat


def _press(chat: Chat, label: str) -> str:
    assert chat.last is not None
    action = next(c.action for c in chat.last.choices if c.label == label)
    return chat(action=action)


def _moved(chat: Chat, number: int, *moves: str) -> str:
    """Each move of proposal NUMBER asked for and confirmed, in turn: the last reply."""
    shown = ""
    for move in moves:
        chat(f"/{move} {number}")
        shown = _press(chat, "Confirm")
    return shown


@pytest.mark.parametrize(
    ("lines", "buttons", "expected"),
    [
        (
            EN_LINES,
            ("Create an activation proposal", "Submit to the ERC", "Confirm"),
            ["Draft proposal #1 created", "Health: World Health Organization (WHO)"],
        ),
        (ZH_LINES, None, ["苏丹", "世界卫生组织"]),
    ],
)
def test_from_checklist_to_announcement(
    chat_as: Callable[..., Chat],
    kb: KnowledgeBase,
    lines: list[str],
    buttons: tuple[str, ...] | None,
    expected: list[str],
) -> None:
    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    erc = _chat_with_role(chat_as, "telegram:20", "erc")
    with session_scope(hc.bot.engine) as session:  # type: ignore[arg-type]
        subscriptions.add(session, "telegram:-100", "SD", ["health"], "zh")
    for line in lines:
        hc(line)
    created = _press(hc, buttons[0]) if buttons else hc(action=hc.replies[0].choices[0].action)
    for text in expected:
        assert text in created
    assert hc.last is not None
    confirm = hc(action=hc.last.choices[0].action)  # submit
    assert hc.last.intent != "error"
    moved = hc(action=hc.last.choices[0].action)  # confirm
    assert "#1" in confirm and "#1" in moved
    assert erc("/endorse 1") != "" and erc.last is not None
    assert erc.last.data["reason"] == "wrong_state"  # not forwarded yet
    erc("/forward 1")
    erc(action=erc.last.choices[0].action)
    erc("/endorse 1")
    done = erc(action=erc.last.choices[0].action)
    assert "endorsed" in done or "已" in done
    with session_scope(hc.bot.engine) as session:  # type: ignore[arg-type]
        notices = session.exec(
            select(Notification).where(Notification.target == "telegram:-100")
        ).all()
        assert len(notices) == 1 and notices[0].lang == "zh"
        notice = notices[0]
        text = hc.bot.renderer.plain(Reply(notice.template, notice.data, notice.lang, "n"))
        assert "苏丹" in text and "世界卫生组织" in text
        proposals.tick(session, kb)
        notices[0].status = "sent"
        session.add(notices[0])
    with session_scope(hc.bot.engine) as session:  # type: ignore[arg-type]
        proposals.tick(session, kb)
    erc("/proposal 1")
    assert erc.last is not None and erc.last.data["status"] == "announced"


def test_refusal_names_who_may(chat: Chat) -> None:
    _propose_as_coordinator(chat, "Sudan health")
    answer = chat("/submit 1")
    assert (
        answer
        == "Only these roles may submit to the ERC: admin, RC/HC. Ask an admin if you need one."
    )


def test_confirmation_buttons_belong_to_one_person(chat_as: Callable[..., Chat]) -> None:
    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    other = _chat_with_role(chat_as, "telegram:11", "hc")
    hc("/propose Sudan health")
    hc("/submit 1 ready")
    assert hc.last is not None
    confirm, cancel = (c.action for c in hc.last.choices)
    assert "no longer valid" in other(action=confirm)
    assert "no longer valid" in hc(action="prop:ok:999")
    assert "no longer valid" in hc(action="prop:ok:-1:x")
    assert hc(action=cancel) == "Cancelled; nothing was changed."
    hc("/submit 1 ready")
    assert hc.last is not None
    confirm = hc.last.choices[0].action
    assert "submitted to the ERC" in hc(action=confirm)
    assert "no longer valid" in hc(action=confirm)  # used once


def test_return_needs_feedback_and_the_proposer_hears_it(chat_as: Callable[..., Chat]) -> None:
    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    erc = _chat_with_role(chat_as, "telegram:20", "erc")
    hc("/propose Sudan health")
    hc("/submit 1")
    hc(action=hc.last.choices[0].action)  # type: ignore[union-attr]
    assert "needs a note" in erc("/return 1")
    erc("/return 1 <b>add the numbers</b> <!channel>")
    assert "add the numbers" in erc.html() and "&lt;b&gt;" in erc.html()
    erc(action=erc.last.choices[0].action)  # type: ignore[union-attr]
    with session_scope(hc.bot.engine) as session:  # type: ignore[arg-type]
        told = [n for n in session.exec(select(Notification)) if n.target == "telegram:10"]
    assert told and told[-1].data["note"] == "<b>add the numbers</b> <!channel>"
    assert "returned with feedback" in hc("/proposal 1")


def test_unknown_and_broken_proposal_commands(chat: Chat) -> None:
    assert "Activation proposals" in chat("/proposal")
    assert "There is no proposal #99" in chat("/proposal 99")
    assert "Activation proposals" in chat("/submit abc")
    assert "There are no activation proposals yet" in chat("/proposals")
    assert "Name at least one" in _propose_as_coordinator(chat, "Sudan")
    assert "Name the country" in chat("/propose health")
    assert "Activation proposals" in chat("/propose")  # no finished checklist
    assert "no longer valid" in chat(action="prop:chk:1")
    assert chat("/role").startswith("Your role: coordinator.")


def test_grant_refuses_what_names_nobody_and_answers_in_the_person_s_language(
    chat: Chat,
) -> None:
    _grant(chat, "admin")
    answer = chat("/grant bob hc")
    assert "bob is not an identity I can reach" in answer and "Nothing was changed." in answer
    answer = chat("/grant console:bob chief")
    assert "where ROLE is one of: admin, coordinator, hc, erc, partner" in answer
    # "console:bob hc" looks French to a language guesser; the admin writes English.
    assert chat("/grant console:bob hc") == "console:bob now has the role: RC/HC."
    with session_scope(chat.bot.engine) as session:  # type: ignore[arg-type]
        assert {u.identity: u.role for u in roles.everyone(session)}.get("bob") is None


def test_a_co_lead_that_is_the_lead_is_refused_and_nothing_is_made(chat: Chat) -> None:
    answer = _propose_as_coordinator(chat, "Sudan health=WHO/who")
    assert "WHO is already the proposed lead of Health, so it cannot be its co-lead" in answer
    assert "There are no activation proposals yet" in chat("/proposals")


def test_a_move_out_of_turn_says_what_can_be_done_and_a_repeat_that_it_is_done(
    chat: Chat,
) -> None:
    _grant(chat, "admin")
    chat("/propose Sudan health")
    chat("/submit 1")
    _press(chat, "Confirm")
    assert "What it can be now: forward to the IASC Principals or return with feedback." in chat(
        "/endorse 1"
    )
    _moved(chat, 1, "forward", "endorse")
    again = chat("/endorse 1")
    assert "Proposal #1 is already endorsed" in again and "nothing was changed" in again, again


def test_a_cluster_move_refused_says_what_stands_in_the_way(chat: Chat) -> None:
    _grant(chat, "admin")
    chat("/propose Sudan health")
    # A draft's clusters are not active: the proposal's own state is what stands in the way.
    assert "Proposal #1 is draft, so it cannot be moved that way" in chat("/plan 1 health a plan")
    _moved(chat, 1, "submit", "forward", "endorse")
    assert "Health in proposal #1 is active, so it cannot be moved" in chat("/deactivate 1 health")
    answer = chat("/plan 1 health hand over to the ministry by June")
    assert "plan the deactivation, Health in proposal #1 (Sudan)?\nNote: hand over" in answer
    _press(chat, "Confirm")
    chat("/deactivate 1 health")
    done = _press(chat, "Confirm")
    # Health was the proposal's one cluster: no "other clusters" to speak of.
    assert "is now: deactivated" in done and "other clusters" not in done, done


def test_a_cluster_move_says_what_it_did_to_that_cluster(chat: Chat) -> None:
    """Not the proposal's state again ("now: endorsed", partners told): the cluster's."""
    _grant(chat, "admin")
    chat("/propose Sudan health wash")
    _moved(chat, 1, "submit", "forward", "endorse")
    chat("/plan 1 health hand over to the ministry by June")
    planned = _press(chat, "Confirm")
    assert "Done: Health in proposal #1 (Sudan) is now: deactivation planned." in planned
    assert "stays active until the RC/HC deactivates it: /deactivate 1 health" in planned
    chat("/deactivate 1 health")
    done = _press(chat, "Confirm")
    assert "Health in proposal #1 (Sudan) is now: deactivated." in done
    assert "Health in Sudan is no longer in the country records." in done
    assert "The proposal's other clusters are unchanged." in done  # WASH is still there
    for claim in ("endorsed", "partner", "proposer"):
        assert claim not in planned + done, planned + done
    assert "We hold no country record for Health in Sudan" in chat("who leads health in sudan")
    # A record that came from elsewhere since (a later import) stays, and the reply says so.
    with session_scope(chat.bot.engine) as session:  # type: ignore[arg-type]
        record = verification.find(session, "SD", "wash")
        assert record is not None
        record.source = "OCHA Sudan contact list"
        session.add(record)
    chat("/plan 1 wash handover")
    _press(chat, "Confirm")
    chat("/deactivate 1 wash")
    kept = _press(chat, "Confirm")
    assert "does not come from this proposal (OCHA Sudan contact list), so it is kept" in kept


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def shared_engine(request: pytest.FixtureRequest) -> Iterator[Engine]:
    """A database two threads reach through separate connections, as two workers would.

    (`any_engine`'s in-memory SQLite shares one connection between threads: no isolation.)
    """
    if request.param == "sqlite":
        yield request.getfixturevalue("engine")
    else:
        for engine in _postgres_engine():
            upgrade(engine)
            yield engine


def test_two_people_endorsing_at_once_notify_once(
    shared_engine: Engine, kb: KnowledgeBase
) -> None:
    any_engine = shared_engine
    with session_scope(any_engine) as session:
        people = _people(session)
        roles.grant(session, "telegram:99", "erc")
        subscriptions.add(session, "telegram:-100", "SD", [], "en")
        pid = _draft(session, kb, people["hc"]).id or 0
        proposals.apply(session, kb, pid, people["hc"], "submit")
        proposals.apply(session, kb, pid, people["erc"], "forward")
    start = threading.Barrier(2)

    def endorse(identity: str) -> str:
        start.wait()
        try:
            with session_scope(any_engine) as session:
                proposals.apply(session, kb, pid, roles.user(session, identity), "endorse")
            return "endorsed"
        except Refused as exc:
            return exc.reason
        except OperationalError:  # SQLite: the database was locked by the other writer
            return "busy"

    with ThreadPoolExecutor(2) as pool:
        outcomes = sorted(pool.map(endorse, ["telegram:4", "telegram:99"]))
    assert outcomes in (["endorsed", "wrong_state"], ["busy", "endorsed"])
    with session_scope(any_engine) as session:
        assert len(_keys(session, "endorsed")) == 2  # the subscriber and the proposer, once each


def test_home_screen_shows_checklist_subscriptions_and_recent_activations(
    chat_as: Callable[..., Chat], engine: Engine, kb: KnowledgeBase
) -> None:
    me = chat_as("slack:T1:U1", where="slack:T1:C1")
    home = me(action="home:")
    assert "None endorsed yet." in home and "checklist open" not in home
    me("/subscribe Sudan health")
    me("/checklist")
    with session_scope(engine) as session:
        people = _people(session)
        pid = _draft(session, kb, people["hc"], "health", "wash").id or 0
        for who, move in (("hc", "submit"), ("erc", "forward"), ("erc", "endorse")):
            proposals.apply(session, kb, pid, people[who], move)
    home = me(action="home:")
    assert "You have an activation checklist open; type /checklist to go on." in home
    assert "#1: Sudan; Health" in home
    assert f"#{pid} Sudan: Health, WASH (" in home


def test_one_checklist_makes_one_proposal(chat_as: Callable[..., Chat]) -> None:
    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    for line in EN_LINES:
        hc(line)
    assert hc.last is not None
    create = hc.last.choices[0].action
    assert "Draft proposal #1 created" in hc(action=create)
    again = hc(action=create)  # a double press
    assert again.startswith("Activation proposal #1: Sudan") and "#2" not in again
    assert hc("/propose").startswith("Activation proposal #1: Sudan")


def test_deactivation_retires_the_country_record_and_partners_see_no_history(
    chat_as: Callable[..., Chat], engine: Engine, kb: KnowledgeBase
) -> None:
    with session_scope(engine) as session:
        people = _people(session)
        subscriptions.add(session, "webhook:https://partner.example/hook", "SD", [], "en")
        pid = _draft(session, kb, people["hc"], "health").id or 0
        for who, move, note in (
            ("hc", "submit", ""),
            ("erc", "return", "secret internal feedback"),
            ("hc", "submit", ""),
            ("erc", "forward", ""),
            ("erc", "endorse", ""),
        ):
            proposals.apply(session, kb, pid, people[who], move, note)
        [notice] = [n for n in session.exec(select(Notification)) if n.target.startswith("web")]
        assert "history" not in notice.data and "telegram:" not in str(notice.data)
        assert "secret internal feedback" not in str(notice.data)
    asker = chat_as("console:someone")
    assert "Lead: WHO" in asker("who leads health in Sudan")
    with session_scope(engine) as session:
        proposals.apply(
            session, kb, pid, people["coordinator"], "plan_deactivation", "to WASH", "health"
        )
        proposals.apply(session, kb, pid, people["hc"], "deactivate", "", "health")
    assert "Lead: WHO" not in asker("who leads health in Sudan")


def test_proposed_leads_other_than_the_global_ones(chat: Chat) -> None:
    shown = _propose_as_coordinator(chat, "Sudan health shelter=IOM/NRC nutrition=WFP/Concern")
    assert "• Health: World Health Organization (WHO)" in shown
    assert (
        "• Shelter: International Organization for Migration (IOM); "
        "co-lead: Norwegian Refugee Council (NRC)"
    ) in shown
    # A co-lead may be an NGO we do not hold, as in a records import.
    assert "• Nutrition: World Food Programme (WFP); co-lead: Concern" in shown


def test_the_shell_refuses_a_co_lead_that_is_the_lead(
    shell_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sh(["users", "grant", "console:hc", "hc"], capsys)[0] == 0
    code, out, err = sh(
        ["proposals", "create", "--as", "console:hc", "--country", "Sudan", "--cluster",
         "health", "--lead", "health=IOM", "--co-lead", "health=iom"],
        capsys,
    )  # fmt: skip
    assert code == 1 and not out
    assert "IOM is already the proposed lead of Health" in err
    assert "Give another organisation as --co-lead" in err
    assert sh(["proposals", "list"], capsys)[1] == ""


def test_propose_makes_exactly_the_proposal_asked_for_or_none(chat: Chat) -> None:
    _grant(chat, "coordinator")
    # A lead's name may have several words; clusters named alone at its end are clusters.
    answer = chat("/propose Sudan shelter=IOM/Danish Refugee Council health")
    assert "co-lead: Danish Refugee Council" in answer
    assert "Health: World Health Organization (WHO)" in answer
    # What names no country or cluster is refused, never dropped.
    for text, says in [
        ("/propose Sudan health flying", 'called "flying", so no proposal was made'),
        ("/propose Sudan Chad health", "propose once for each of Sudan, Chad"),
        ("/propose Sudan child protection", "Child Protection is an Area of Responsibility"),
        ("/propose Sudan cyber=IOM", '"cyber=IOM" names no cluster and its lead'),
    ]:
        assert says in chat(text), text
    assert "#1 Sudan: Health, Shelter (draft)" in chat("/proposals")
    assert "#2" not in chat("/proposals")
    # An AoR beside its own cluster is that cluster, as the checklist reads it.
    assert "• Protection: Office of the UN High Commissioner" in chat(
        "/propose Sudan protection, child protection"
    )


def test_a_lead_s_name_keeps_the_words_that_also_name_clusters(chat: Chat) -> None:
    _grant(chat, "coordinator")
    assert "co-lead: International Medical Corps" in chat(
        "/propose Sudan health=WHO/International Medical Corps"
    )  # "Medical" is also a word for Health
    shown = chat("/propose Sudan protection=Norwegian Refugee Council/World Health Partners")
    assert "co-lead: World Health Partners" in shown and "• Health" not in shown
    assert "co-lead: Save the Children International" in chat(
        "/propose Sudan nutrition=UNICEF/Save the Children International"
    )  # not cut to the agency it holds
    assert "names no cluster and its lead" in chat("/propose Sudan shelter=IOM/NRC/ACF")


def test_a_co_led_cluster_is_proposed_with_both_co_leads(chat: Chat) -> None:
    shown = _propose_as_coordinator(chat, "Sudan food security education")
    for line in (
        "• Food Security: World Food Programme (WFP); co-lead: Food and Agriculture Organization",
        "• Education: United Nations Children's Fund (UNICEF); co-lead: Save the Children",
    ):
        assert line in shown, shown
    # One lead named is that lead alone: the co-lead is not added behind it.
    shown = chat("/propose Sudan fsc=WFP")
    assert "• Food Security: World Food Programme (WFP)\n" in shown + "\n", shown
    assert "FAO" not in shown


def test_a_lead_that_depends_on_the_emergency_is_asked_never_guessed(chat: Chat) -> None:
    answer = _propose_as_coordinator(chat, "Chad cccm education")
    assert (
        "The global lead of Camp Coordination and Camp Management depends on the kind of"
        " emergency, and the proposal does not say which kind this is:"
    ) in answer, answer
    assert "• In natural disasters: IOM, lead." in answer
    assert "• In conflict-induced displacement: UNHCR, lead." in answer
    assert "Name the lead you propose, for example cccm=UNHCR. No proposal was made." in answer
    assert "There are no activation proposals yet" in chat("/proposals")
    shown = chat("/propose Chad cccm=UNHCR education")
    assert "Camp Management: Office of the UN High Commissioner for Refugees (UNHCR)" in shown
    assert "co-lead: Save the Children" in shown
    # In the user's language.
    answer = chat("/propose Tchad abris")
    assert "dépend du type d'urgence" in answer and "shelter=HCR. Aucune" in answer, answer
    assert "pour les réfugiés (HCR)" in chat("/propose Tchad shelter=HCR")


def test_a_misspelt_lead_is_refused_with_the_import_s_suggestion(chat: Chat) -> None:
    answer = _propose_as_coordinator(chat, "Sudan health=WHOO")
    assert "WHOO is not an agency we know. Did you mean WHO?" in answer, answer
    assert "No proposal was made." in answer
    # A co-lead may be an organisation we do not hold, but not a misspelt agency we do.
    answer = chat("/propose Sudan nutrition=UNICEF/UNICFE")
    assert "UNICFE is not an agency we know. Did you mean UNICEF?" in answer, answer
    assert "No Lost Generation is not" not in chat("/propose Sudan wash=UNICEF/No Lost Generation")
    # The HCT may choose another organisation to lead in the country (step 4).
    assert "• Nutrition: Concern Worldwide" in chat("/propose Chad nutrition=Concern Worldwide")
    # An NGO's short acronym is no slip for an agency's ("IRC" is not "IFRC").
    assert "• Shelter: IRC" in chat("/propose Niger shelter=IRC")
    # Two leads for one cluster: neither is kept without a word.
    answer = chat("/propose Chad fsc=WFP fsc=FAO")
    assert "Food Security is given two leads: write it once" in answer, answer
    listed = chat("/proposals")
    assert "#1 Sudan: WASH (draft)" in listed and "#2 Chad: Nutrition (draft)" in listed
    assert "#3 Niger: Shelter (draft)" in listed and "#4" not in listed, listed
    # So the country records never show the typo.
    assert "WHOO" not in chat("who leads health in Sudan?")


def test_the_shell_proposes_as_the_chat_does(
    shell_db: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert sh(["users", "grant", "console:hc", "hc"], capsys)[0] == 0
    create = ["proposals", "create", "--as", "console:hc", "--country", "Chad"]
    code, _, err = sh([*create, "--cluster", "food security"], capsys)
    assert code == 0 and "FSC (WFP, co-lead FAO)" in err, err
    code, out, err = sh([*create, "--cluster", "cccm"], capsys)
    assert code == 1 and not out
    assert "• In conflict-induced displacement: UNHCR, lead." in err, err
    assert "for example --lead cccm=UNHCR" in err and "--response" in err
    code, _, err = sh([*create, "--cluster", "cccm", "--response", "floods in the south"], capsys)
    assert code == 0 and "CCCM (IOM)" in err, err
    code, out, err = sh([*create, "--cluster", "health", "--lead", "health=WHOO"], capsys)
    assert code == 1 and "WHOO is not an agency we know. Did you mean WHO?" in err, err
    assert "--allow-unknown-agency" in err
    code, _, err = sh(
        [*create, "--cluster", "health", "--lead", "health=WHOO", "--allow-unknown-agency"], capsys
    )
    assert code == 0 and "Health (WHOO)" in err, err
    assert len(sh(["proposals", "list"], capsys)[1].splitlines()) == 3


def test_a_checklist_s_co_led_clusters_are_proposed_with_both_co_leads(
    chat_as: Callable[..., Chat],
) -> None:
    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    for line, _ in CO_LED_WALK:
        hc(line)
    hc("done")
    hc("yes")  # Food Security: WFP and FAO kept
    hc("skip")  # Education's lead not answered: the global arrangement, as the letter says
    letter = hc("skip")
    assert "Proposed lead: United Nations Children's Fund (UNICEF). Proposed co-lead: Save" in (
        letter
    )
    assert hc.last is not None
    shown = hc(action=hc.last.choices[0].action)
    assert "Draft proposal #1 created" in shown
    assert "• Food Security: World Food Programme (WFP); co-lead: Food and Agriculture" in shown
    assert "• Education: United Nations Children's Fund (UNICEF); co-lead: Save the Children" in (
        shown
    )


def test_a_checklist_s_shelter_lead_left_unanswered_is_not_guessed(
    chat_as: Callable[..., Chat],
) -> None:
    """What happened names no kind of emergency, so no global lead of Shelter fits it."""
    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    for line in ["/checklist", "Sudan", "a crisis displaced 200,000 people", "shelter"]:
        hc(line)
    for line in ["yes"] * 3 + ["done"] * 8:
        hc(line)
    assert "Lead for Shelter" not in hc("skip")  # nothing was read, so nothing is "noted"
    letter = hc("skip")
    assert "Proposed lead: not chosen yet: the global lead depends on the kind" in letter
    assert "[Name the proposed lead:" in letter and "Proposed lead: Inter" not in letter
    assert "This is the arrangement proposed here" not in letter
    assert hc.last is not None
    shown = hc(action=hc.last.choices[0].action)
    assert "depends on the kind of emergency" in shown and "No proposal was made" in shown


def test_a_proposal_for_clusters_active_or_proposed_already_says_so(chat: Chat) -> None:
    _grant(chat, "admin")
    chat("/propose Chad health wash")
    _moved(chat, 1, "submit", "forward", "endorse")
    again = chat("/propose Chad health nutrition")
    assert "Draft proposal #2 created." in again
    assert "already activated in Chad:\n• Health: activated on" in again, again
    assert "Nutrition: activated" not in again and "Other proposals" not in again
    twice = chat("/propose Chad nutrition")
    assert "Other proposals under way for Chad already name these clusters:" in twice
    assert "• Nutrition in proposal #2 (draft)" in twice and "already activated" not in twice
    assert "Other proposals" not in chat("/propose Sudan nutrition")  # another country
    # A record with no activation date is an active cluster still.
    with session_scope(chat.bot.engine) as session:  # type: ignore[arg-type]
        record = verification.find(session, "TD", "wash")
        assert record is not None
        record.activated_on = None
        session.add(record)
    undated = chat("/propose Chad wash")
    assert (
        "• Water, Sanitation and Hygiene: lead UNICEF (the record gives no activation" in undated
    )


@pytest.mark.parametrize(
    ("lines", "lang", "said"),
    [
        (["/propose Sudan health", "1"], "en", "There is no choice 1 open"),
        (["Qui dirige le cluster santé ?", "/propose Soudan santé", "1"], "fr", "pas de choix 1"),
        (["谁牵头卫生集群？", "/propose", "3"], "zh", "没有可用的选项 3"),
    ],
)
def test_a_number_after_a_refusal_says_no_choice_is_open(
    bot: Bot, tmp_path: Path, lines: list[str], lang: str, said: str
) -> None:
    """A number is a button only while one is shown: a refusal shows none."""
    import io
    import json

    from bot.adapters import terminal

    out = io.StringIO()
    terminal.chat(bot.handle_sync, bot.renderer, "nobody", lines, out, False, tmp_path, True)
    *_, last = (json.loads(row) for row in out.getvalue().splitlines())
    [answer] = last["replies"]
    assert (answer["intent"], answer["lang"]) == ("no_choice", lang)
    assert said in answer["text"] and answer["choices"] == []


def test_a_number_past_the_choices_leaves_them_open(bot: Bot, tmp_path: Path) -> None:
    """ "4" of three choices is refused, and the three shown are still there to pick."""
    import io
    import json

    from bot.adapters import terminal
    from bot.core import Choice, Incoming, Reply

    topics = ("cluster_approach", "aims", "provider_of_last_resort")
    offer = Reply(
        "checklist/none_open.j2",
        {},
        "en",
        "x",
        choices=tuple(Choice(t, f"topic:{t}") for t in topics),
    )

    def handle(msg: Incoming) -> list[Reply]:  # a reply with three topics, then the bot
        return [offer] if msg.text == "offer" else bot.handle_sync(msg)

    out = io.StringIO()
    terminal.chat(handle, bot.renderer, "nobody", ["offer", "4", "3"], out, False, tmp_path, True)
    _, refused, picked = (json.loads(row) for row in out.getvalue().splitlines())
    assert (
        "There is no choice 4: the last reply offered choices 1 to 3"
        in (refused["replies"][0]["text"])
    )
    assert picked["replies"][0]["topic"] == "provider_of_last_resort"


def test_the_warning_of_other_proposals_names_a_few_and_counts_the_rest(chat: Chat) -> None:
    _grant(chat, "admin")
    for _ in range(7):
        chat("/propose Chad health")
    eighth = chat("/propose Chad health")
    assert "Draft proposal #8 created." in eighth
    named = [line for line in eighth.splitlines() if "in proposal #" in line]
    assert named == [f"• Health in proposal #{n} (draft)" for n in range(1, 6)], eighth
    assert "• and 2 more: /proposals lists them all" in eighth
    assert chat.last is not None
    for lang in ("zh", "fr", "es", "ar"):
        shown = chat.bot.renderer.plain(replace(chat.last, lang=lang))
        assert (
            translate(lang, "and %(count)d more: /proposals lists them all") % {"count": 2}
            in shown
        )
        assert sum("#" in line for line in shown.splitlines() if line.startswith("• ")) == 5
    assert "more:" not in chat("/propose Chad nutrition")  # nothing else proposes it


@pytest.mark.parametrize(
    ("yes", "no", "cancelled"),
    [
        ("yes", "no", "Cancelled; nothing was changed."),
        ("oui", "non", "Annulé"),
        ("sí", "no, gracias", "Cancelad"),
        ("是的", "不", "已取消"),
        ("ايوه", "لا", "أُلغي"),
    ],
)
def test_a_typed_yes_or_no_confirms_or_cancels_the_move_asked(
    chat_as: Callable[..., Chat], yes: str, no: str, cancelled: str
) -> None:
    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    other = _chat_with_role(chat_as, "telegram:11", "hc")
    hc("/propose Sudan health")
    hc("/submit 1 ready")
    assert cancelled in hc(no)
    hc("/submit 1 ready")
    assert "submitted to the ERC" not in other(yes)  # someone else's "yes" confirms nothing
    answer = hc(yes)
    assert "#1" in answer and hc.last is not None and hc.last.data.get("status") == "submitted"
    assert hc.last.intent != "fallback"


def test_a_checklist_lead_left_undecided_makes_no_proposal_with_the_global_one(
    chat_as: Callable[..., Chat], kb: KnowledgeBase
) -> None:
    from tests.test_letter import lines_in

    hc = _chat_with_role(chat_as, "telegram:10", "hc")
    lines = lines_in(kb, "en")
    lines[22] = "tbd"  # Health's lead: not decided yet
    for line in lines:
        hc(line)
    answer = _press(hc, "Create an activation proposal")
    assert "leaves the lead of Health not decided yet" in answer
    assert "No proposal was made" in answer and "Draft proposal" not in answer
