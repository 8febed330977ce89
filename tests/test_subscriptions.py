"""Partner subscriptions in chat and from the shell, and the workflow commands scripts rely on."""

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.cli import ROLES as CLI_ROLES
from bot.models import ROLES
from tests.conftest import Chat, sh


def test_subscribe_a_group_in_its_language(chat_as: Callable[..., Chat]) -> None:
    admin = chat_as("telegram:7", where="telegram:-100")
    assert "Soudan" in admin("/subscribe Soudan santé nutrition", locale="fr")
    assert admin.last is not None and admin.last.lang == "fr"
    assert admin.last.data["clusters"] == ["Santé", "Nutrition"]
    assert admin("/subscribe Soudan santé nutrition", lang="en").startswith(
        "This chat already has that subscription (#1)"
    )
    listed = admin("/subscriptions", lang="en")
    assert "#1: Sudan; Health, Nutrition" in listed
    assert admin("/unsubscribe", lang="en") == "1 subscription ended."
    assert "no subscriptions" in admin("/subscriptions", lang="en")


def test_only_group_admins_change_subscriptions(chat_as: Callable[..., Chat]) -> None:
    member = chat_as("telegram:8", where="telegram:-100")
    answer = member("/subscribe Sudan health", may_manage_chat=False)
    assert answer == "Only the group's admins may change its subscriptions."
    assert "no subscriptions" in member("/subscriptions")


def test_terminal_cannot_subscribe_and_usage_is_explained(chat: Chat) -> None:
    assert "Notifications cannot reach this chat" in chat("/subscribe Sudan health")
    group = Chat(chat.bot, "telegram:9", where="telegram:-5")
    assert "e.g. /subscribe Sudan health nutrition" in group("/subscribe")
    assert "e.g. /subscribe Sudan health nutrition" in group("/subscribe 🙂 <!channel>")


def test_unsubscribe_one_by_number_or_country(chat_as: Callable[..., Chat]) -> None:
    admin = chat_as("telegram:7", where="telegram:-100")
    admin("/subscribe Sudan health")
    admin("/subscribe Haiti")
    admin("/subscribe Chad")
    admin("/subscribe health")  # every country
    assert "e.g. /subscribe" in admin("/unsubscribe Narnia")  # no country: ends nothing
    assert "e.g. /subscribe" in admin("/unsubscribe health")
    assert "#4: every country; Health" in admin("/subscriptions")
    assert admin("/unsubscribe #2") == "1 subscription ended."
    assert admin("/unsubscribe Sudan") == "1 subscription ended."
    assert "#3: Chad; every cluster" in admin("/subscriptions")


def test_a_subscription_is_never_wider_than_what_was_asked(chat_as: Callable[..., Chat]) -> None:
    admin = chat_as("telegram:7", where="telegram:-100")
    # An unknown country or cluster used to be dropped: "every country, Health".
    answer = admin("/subscribe Atlantis health")
    assert 'I know no country or cluster called "Atlantis", so nothing was subscribed' in answer
    assert '"flying"' in admin("/subscribe Sudan flying")
    assert "subscribe once for each of Sudan, Chad" in admin("/subscribe Sudan Chad health")
    answer = admin("/subscribe Sudan child protection")
    assert "Child Protection is an Area of Responsibility of the Protection cluster" in answer
    assert "no subscriptions" in admin("/subscriptions")
    assert "Health" in admin("/subscribe sudan heath")  # a typo the bot reads is no unknown word
    # Asked again in French: the notices change language, and the reply says so.
    answer = admin("/subscribe Soudan santé", lang="en")
    assert answer == "This chat already has that subscription (#1)."
    answer = admin("/subscribe Soudan santé")
    assert answer.endswith("ses notifications seront désormais en français.")
    assert "aucun n'a été résilié" in admin("/unsubscribe 99", lang="fr")
    assert admin("/unsubscribe", lang="en") == "1 subscription ended."
    assert admin("/unsubscribe", lang="en") == "This chat has no subscriptions, so none was ended."


def test_shell_workflow_end_to_end(shell_db: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert sh(["users", "grant", "console:hc", "hc"], capsys)[0] == 0
    assert sh(["users", "grant", "telegram:42", "erc"], capsys)[0] == 0
    code, out, _ = sh(["users", "list"], capsys)
    assert "console:hc\thc" in out and "telegram:42\terc" in out
    code, sub_id, _ = sh(
        ["subscriptions", "add", "--target", "telegram:-100", "--country", "SD", "--lang", "ar"],
        capsys,
    )
    assert code == 0 and sub_id == "1"
    code, pid, err = sh(
        [
            "proposals", "create", "--as", "console:hc", "--country", "Sudan",
            "--cluster", "health", "--cluster", "shelter", "--lead", "shelter=IOM",
        ],
        capsys,
    )  # fmt: skip
    assert (code, pid) == (0, "1")  # the id alone on stdout; the next step on stderr
    assert err.startswith("Draft proposal #1 for Sudan: Health (WHO), Shelter (IOM). Next")
    code, _, err = sh(["proposals", "forward", pid, "--as", "console:hc"], capsys)
    assert code == 1
    assert err.splitlines() == [
        "refused: Only these roles may forward to the IASC Principals: admin, ERC. Ask an admin if you need one.",
        "An admin grants a role with: clusterbot users grant IDENTITY ROLE",
    ]
    for move, who in (
        ("submit", "console:hc"),
        ("forward", "telegram:42"),
        ("endorse", "telegram:42"),
    ):
        code, out, err = sh(["proposals", move, pid, "--as", who], capsys)
        assert code == 0, err
        if move == "submit":  # the ERC (telegram:42) is reachable: one notice queued
            assert out.startswith("#1 is now submitted to the ERC; 1 notice is queued for the ERC")
        if move == "endorse":  # the proposer (console:hc) is not reachable; the partner chat is
            assert "1 partner notification is in the outbox" in out
            assert "the proposer has no chat identity the bot can reach, so is not told" in out
    code, out, _ = sh(["proposals", "show", pid, "--json"], capsys)
    shown = json.loads(out)
    assert shown["status"] == "endorsed"
    assert [c["lead"]["acronym"] for c in shown["clusters"]] == ["WHO", "IOM"]
    assert [h["to"] for h in shown["history"]] == ["draft", "submitted", "forwarded", "endorsed"]
    code, out, _ = sh(["proposals", "list", "--country", "Sudan"], capsys)
    assert out == "#1\tendorsed\tSudan\tHealth, Shelter"
    code, out, _ = sh(["subscriptions", "list"], capsys)
    assert out == "1\ttelegram:-100\tSD\t*\tar\tactive"
    assert sh(["subscriptions", "remove", "1"], capsys)[0] == 0
    assert sh(["subscriptions", "remove", "1"], capsys)[0] == 0  # already ended: still there
    assert sh(["subscriptions", "remove", "9"], capsys)[0] == 2


@pytest.mark.parametrize(
    "args",
    [
        ["subscriptions", "add", "--target", "console:me"],
        ["subscriptions", "add", "--target", "slack:T1:C1", "--country", "Atlantis"],
        # An Area of Responsibility is never endorsed on its own: nothing would ever come.
        ["subscriptions", "add", "--target", "slack:T1:C1", "--cluster", "child protection"],
        ["proposals", "create", "--as", "console:x", "--country", "SD", "--cluster", "cyber"],
        ["proposals", "create", "--as", "console:x", "--country", "SD", "--cluster", "health",
         "--lead", "health"],
    ],
)  # fmt: skip
def test_shell_rejects_bad_input(
    shell_db: Path, capsys: pytest.CaptureFixture[str], args: list[str]
) -> None:
    code, out, err = sh(args, capsys)
    assert code == 2 and err.startswith("error: ") and not out


def test_cli_role_names_match_the_model() -> None:
    assert CLI_ROLES == ROLES


def test_each_platform_says_whom_and_where_it_reaches() -> None:
    from bot.adapters.slack.sender import SlackSender
    from bot.adapters.webhook.sender import WebhookSender
    from bot.core import ADDRESSES
    from bot.render import renderer_for

    renderer = renderer_for(("en",))
    hook, slack = WebhookSender(renderer, "s3cret"), SlackSender(renderer, token="xoxb-1")
    assert (hook.prefix, slack.prefix) == ("webhook", "slack")
    assert hook.reaches("webhook:https://partner.example/hook")
    assert not hook.reaches("webhook:ftp://partner.example") and not hook.reaches("slack:T1:C1")
    assert slack.reaches("slack:T1:C1") and slack.reaches_person("slack:T1:U2") == "slack:T1:U2"
    assert ADDRESSES.reaches_person("telegram:42") == "telegram:42"
    assert ADDRESSES.reaches_person("console:alice") is None  # the terminal cannot be told later
    assert not ADDRESSES.reaches("console:alice")
    # A target is all of it: a trailing line break (a pasted value) is not a Telegram chat.
    assert ADDRESSES.reaches("telegram:42") and not ADDRESSES.reaches("telegram:42\n")
