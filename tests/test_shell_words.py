"""The shell's words: every refusal and success says what happened and what to do next.

In-process through bot.cli.main, as a script would see stdout, stderr and the exit status.
"""

from pathlib import Path

import pytest

from bot.cli import main


def sh(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out.strip(), out.err.strip()


@pytest.fixture(autouse=True)
def shell_db(migrated_db: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    db = tmp_path / "shell.db"
    db.write_bytes(migrated_db.read_bytes())
    monkeypatch.setenv("CLUSTERBOT_DATABASE_URL", f"sqlite:///{db}")
    return db


@pytest.mark.parametrize(
    ("identity", "says"),
    [
        ("", "error: the identity is empty; write the person as one of: telegram:USER_ID"),
        ("   ", "error: the identity is empty;"),
        ("bob", "error: 'bob' has no platform prefix (in the terminal chat: console:bob)"),
        ("email:bob@example.org", "error: 'email' is not a platform we serve"),
        (
            "telegram:bob",
            "error: 'telegram:bob' is not a telegram identity; write it as telegram:USER_ID",
        ),
        (
            "slack:U123",
            "error: 'slack:U123' is not a slack identity; write it as slack:TEAM_ID:USER_ID",
        ),
        ("console:", "error: 'console:' is not a console identity"),
    ],
)
def test_a_bad_identity_is_refused_with_the_right_form(
    identity: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sh(["users", "grant", identity, "admin"], capsys)
    assert (code, out) == (2, "")
    assert err.startswith(says)
    assert sh(["users", "list"], capsys)[1] == ""  # nobody was made anything


def test_granting_says_what_the_role_may_do(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = sh(["users", "grant", "telegram:42", "erc"], capsys)
    assert code == 0
    assert out.splitlines() == [
        "telegram:42 is now erc: they may forward proposals to the IASC Principals, record the "
        "Principals' endorsement and return proposals with feedback.",
        "clusterbot users list shows everyone's role.",
    ]
    out = sh(["users", "grant", "slack:T1:U2", "partner"], capsys)[1]
    assert out.startswith("slack:T1:U2 is now partner: they may read proposals and subscribe")


def test_a_lead_for_a_cluster_not_in_the_proposal_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = [
        "proposals",
        "create",
        "--as",
        "console:hc",
        "--country",
        "Sudan",
        "--cluster",
        "health",
    ]
    code, out, err = sh([*args, "--lead", "nutrition=UNICEF"], capsys)
    assert (code, out) == (2, "")
    assert err == (
        "error: --lead names Nutrition, which is not among this proposal's clusters (Health); "
        "add --cluster nutrition, or correct the --lead"
    )
    code, out, err = sh([*args, "--co-lead", "wash=NRC"], capsys)
    assert code == 2 and "--co-lead names WASH" in err
    assert sh(["proposals", "list"], capsys)[1] == ""  # nothing was created


def test_each_move_says_what_it_did_and_what_comes_next(
    capsys: pytest.CaptureFixture[str],
) -> None:
    sh(["users", "grant", "console:hc", "hc"], capsys)
    code, out, err = sh(
        ["proposals", "create", "--as", "console:hc", "--country", "SD", "--cluster", "health"],
        capsys,
    )
    assert (code, out) == (0, "1")  # scripts read the id alone
    assert err == (
        "Draft proposal #1 for Sudan: Health (WHO). Next, the RC/HC submits it to the ERC: "
        "clusterbot proposals submit 1 --as IDENTITY"
    )
    out = sh(["proposals", "submit", "1", "--as", "console:hc"], capsys)[1]
    assert out.startswith("#1 is now submitted to the ERC; nobody holds the ERC role yet")
    assert "clusterbot users grant IDENTITY erc" in out
    sh(["users", "grant", "telegram:42", "erc"], capsys)
    out = sh(["proposals", "forward", "1", "--as", "telegram:42"], capsys)[1]
    assert out.startswith("#1 is now forwarded to the IASC Principals. Next")
    out = sh(["proposals", "endorse", "1", "--as", "telegram:42"], capsys)[1]
    assert out.startswith(
        "#1 is now endorsed: the country records for Sudan show its leads; 0 partner "
        "notifications are in the outbox, and the proposer has no chat identity the bot can "
        "reach, so is not told."
    )


def test_plan_deactivation_and_deactivate_say_different_true_things(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for who, role in (("console:hc", "hc"), ("telegram:42", "erc")):
        sh(["users", "grant", who, role], capsys)
    sh(["proposals", "create", "--as", "console:hc", "--country", "SD", "--cluster", "health",
        "--cluster", "nutrition"], capsys)  # fmt: skip
    for move, who in (
        ("submit", "console:hc"),
        ("forward", "telegram:42"),
        ("endorse", "telegram:42"),
    ):
        assert sh(["proposals", move, "1", "--as", who], capsys)[0] == 0
    deactivate = ["proposals", "deactivate", "1", "--cluster", "health", "--as", "console:hc"]
    code, out, err = sh(deactivate, capsys)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "refused: Health in proposal #1 is active, so it cannot be deactivated.",
        "Plan it first, with its transition plan: clusterbot proposals plan-deactivation 1 "
        "--cluster health --note PLAN --as IDENTITY",
    ]
    plan = ["proposals", "plan-deactivation", "1", "--cluster", "health", "--as", "console:hc"]
    code, planned, _ = sh([*plan, "--note", "handover to the ministry"], capsys)
    assert code == 0
    assert planned == (
        "#1: the deactivation of Health is planned and its transition plan recorded; Health "
        "stays active until it is deactivated, and the proposal stays endorsed. Next, the "
        "RC/HC: clusterbot proposals deactivate 1 --cluster health --as IDENTITY"
    )
    assert sh([*plan, "--note", "again"], capsys)[2].startswith(
        "refused: Health in proposal #1 is already planned for deactivation, so it cannot be "
        "planned for deactivation."
    )
    code, done, _ = sh(deactivate, capsys)
    assert code == 0 and done != planned
    assert done.startswith(
        "#1: Health in Sudan is deactivated, and it is no longer in the country records;"
    )
    assert "the proposal's other clusters are unchanged" in done  # nutrition's


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["proposals", "show", "9"], "clusterbot proposals list shows the proposals there are."),
        (
            ["proposals", "submit", "9", "--as", "console:x"],
            "clusterbot proposals list shows the proposals there are.",
        ),
    ],
)
def test_refusals_end_with_what_to_do(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sh(args, capsys)
    assert code == 1 and not out
    assert err.splitlines() == ["refused: There is no proposal #9.", says]


def test_a_forbidden_move_says_who_grants_roles(capsys: pytest.CaptureFixture[str]) -> None:
    sh(["users", "grant", "console:c", "coordinator"], capsys)
    sh(
        ["proposals", "create", "--as", "console:c", "--country", "SD", "--cluster", "health"],
        capsys,
    )
    code, _, err = sh(["proposals", "submit", "1", "--as", "console:c"], capsys)
    assert code == 1
    assert (
        err.splitlines()[-1] == "An admin grants a role with: clusterbot users grant IDENTITY ROLE"
    )


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["proposals", "list", "--country", "Atlantis"], "no country called 'Atlantis'; give its name in English"),
        (["proposals", "create", "--as", "console:x", "--country", "SD", "--cluster", "cyber"],
         "no cluster called 'cyber'; the clusters are: CCCM, Early Recovery"),
        (["subscriptions", "remove", "9"], "there is no subscription 9; clusterbot subscriptions list"),
        (["proposals", "create", "--as", "bob", "--country", "SD", "--cluster", "health"], "'bob' has no platform prefix"),
    ],
)  # fmt: skip
def test_bad_input_exits_2_with_a_way_out(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = sh(args, capsys)
    assert (code, out) == (2, "")
    assert err.startswith(f"error: {says}")


def test_an_unknown_role_lists_the_roles_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["users", "grant", "console:amina", "boss"])
    err = capsys.readouterr().err
    assert exit_.value.code == 2
    assert "(choose from 'admin', 'coordinator', 'hc', 'erc', 'partner')" in err, err


def test_a_one_shot_command_leaves_the_collector_as_it_found_it(
    capsys: pytest.CaptureFixture[str],
) -> None:
    # It pauses the collector while it runs, and freezes nothing: a script that calls it
    # in-process keeps collecting its own garbage.
    import gc

    frozen = gc.get_freeze_count()
    assert sh(["db", "upgrade"], capsys)[0] == 0
    # Freezing would grow the count; a frozen object of an earlier test freed meanwhile may
    # lower it by one or two, which is no freeze.
    assert gc.isenabled() and gc.get_freeze_count() <= frozen


TWICE = ["--country", "Sudan", "--country", "Chad"]
SUDAN = ["--as", "console:alice", "--country", "Sudan", "--cluster", "health"]


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (
            ["subscriptions", "add", "--target", "webhook:https://p.example/h", *TWICE],
            "error: --country is given twice; give it once",
        ),
        (
            ["proposals", "create", "--as", "console:alice", *TWICE, "--cluster", "health"],
            "error: --country is given twice; give it once",
        ),
        (
            ["proposals", "create", *SUDAN, "--lead", "health=WHO", "--lead", "health=UNICEF"],
            "error: 'health=UNICEF': health is given an agency twice; give it once",
        ),
    ],
)
def test_an_option_given_twice_is_refused_not_half_kept(
    args: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    sh(["users", "grant", "console:alice", "admin"], capsys)
    try:
        code, err = sh(args, capsys)[::2]
    except SystemExit as exit:  # argparse refuses before the command runs
        code, err = int(str(exit.code)), capsys.readouterr().err.strip()
    assert code == 2 and says in err, err
    assert sh(["subscriptions", "list"], capsys)[1] == ""  # nothing was made
    assert sh(["proposals", "list"], capsys)[1] == ""
