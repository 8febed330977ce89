"""The command line as scripts use it: ask, the JSON batch, the piped chat, import, db upgrade."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def _migrated(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    """Start each command on a migrated database, except where migrating is what is tested."""
    if request.node.name != "test_db_upgrade":
        shutil.copyfile(request.getfixturevalue("migrated_db"), tmp_path / "cli.db")


def run(args: list[str], tmp_path: Path, stdin: str = "") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CLUSTERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )


def test_ask_one_question(tmp_path: Path) -> None:
    out = run(["ask", "who", "leads", "WASH?"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "United Nations Children's Fund (UNICEF)" in out.stdout


def test_ask_with_forced_language_and_json(tmp_path: Path) -> None:
    out = run(["ask", "--lang", "fr", "--json", "who leads health"], tmp_path)
    row = json.loads(out.stdout)
    assert row["lang"] == "fr" and row["intent"] == "who_leads"
    assert 0 <= row["confidence"] <= 1 and row["sources"]
    assert "OMS" in row["text"]


def test_json_batch_of_a_thousand_questions_in_order(tmp_path: Path) -> None:
    questions = [
        "who leads WASH",
        "健康集群由谁牵头？",
        "",
        "Qui dirige le cluster santé ?",
        "¿Quién lidera el clúster de logística?",
        "x" * 5000,
        "🙂",
        "who leads the cybersecurity cluster",
    ]
    lines = [questions[i % len(questions)] for i in range(1000)]
    out = run(["ask", "--json", "-"], tmp_path, stdin="\n".join(lines) + "\n")
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 1000
    for question, row in zip(lines, rows, strict=True):
        assert row["question"] == question
        assert {"text", "lang", "intent", "confidence", "sources"} <= row.keys()
        assert row["text"]
    assert rows[1]["lang"] == "zh" and rows[3]["lang"] == "fr" and rows[4]["lang"] == "es"


def test_piped_chat_answers_each_line_in_order(tmp_path: Path) -> None:
    lines = "/lang fr\nWASH?\nwho leads health\n/lang\n2\n"
    out = run(["chat", "--user", "amina"], tmp_path, stdin=lines)
    assert out.returncode == 0, out.stderr
    text = out.stdout
    # One reply per line, in order: French chosen, a French WASH answer, an English answer,
    # the language buttons as numbered choices, and "2" pressing the second one (中文).
    marks = [
        "en français",
        "UNICEF",
        "World Health Organization (WHO)",
        "[2] 简体中文",
        "简体中文",
    ]
    positions = [text.index(marks[0])]
    for mark in marks[1:]:
        positions.append(text.index(mark, positions[-1] + 1))
    assert "Fonds des Nations Unies pour l" in text[positions[0] : positions[2]]
    assert "Traceback" not in out.stderr


def test_chat_remembers_language_across_processes(tmp_path: Path) -> None:
    run(["chat", "--user", "li"], tmp_path, stdin="/lang zh\n")
    out = run(["chat", "--user", "li"], tmp_path, stdin="WASH?\n")
    assert "联合国儿童基金会" in out.stdout


@pytest.mark.parametrize("args", [["chat", "--user", "li"], ["ask", "--json", "-"]])
def test_a_command_leaves_the_database_whole_in_its_file(tmp_path: Path, args: list[str]) -> None:
    # Its connections closed, SQLite folds the write-ahead log back: the file alone, copied
    # or backed up, holds every answer kept, and no -wal or -shm is left beside it.
    out = run(args, tmp_path, stdin="who leads wash\n")
    assert out.returncode == 0, out.stderr
    assert sorted(p.name for p in tmp_path.glob("cli.db*")) == ["cli.db"]


def test_import_clusters_reports_bad_rows(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "country,cluster,lead\nSudan,health,WHO\nNowhere,health,WHO\nChad,wash,WHOO\n",
        encoding="utf-8",
    )
    out = run(["import-clusters", str(bad)], tmp_path)
    assert out.returncode == 2
    assert f"{bad}: nothing imported (a file loads all its rows or none);" in out.stderr
    assert "2 problems to fix:" in out.stderr
    assert "line 3: unknown country 'Nowhere'" in out.stderr
    assert "line 4: unknown lead agency 'WHOO' (did you mean 'WHO'?)" in out.stderr
    assert "import again with --allow-unknown-agency" in out.stderr
    good = run(
        ["import-clusters", str(ROOT / "examples" / "country-clusters.sample.csv")], tmp_path
    )
    assert good.returncode == 0 and "4 added, 0 updated (read as utf-8 text" in good.stdout
    assert 'Check an answer: clusterbot ask "who leads Health in Sudan?"' in good.stdout
    answer = run(["ask", "who leads CCCM in South Sudan"], tmp_path)
    assert "SAMPLE NGO co-lead" in answer.stdout


def test_import_clusters_with_unknown_agency_allowed(tmp_path: Path) -> None:
    path = tmp_path / "leads.csv"
    path.write_text("Pays;Cluster;Chef de file\nTchad;eau;Ministère de l'Eau\n", "utf-8")
    out = run(["import-clusters", "--allow-unknown-agency", str(path)], tmp_path)
    assert out.returncode == 0, out.stderr
    assert "1 added" in out.stdout and "separated by semicolons" in out.stdout
    assert 'unknown lead agency "Ministère de l\'Eau"; loaded as written' in out.stderr


def test_import_clusters_missing_file_is_not_a_row_problem(tmp_path: Path) -> None:
    out = run(["import-clusters", str(tmp_path / "nope.csv")], tmp_path)
    assert out.returncode == 2
    assert f"error: {tmp_path / 'nope.csv'}: no such file; nothing imported." in out.stderr
    assert "Check the path" in out.stderr
    assert "rows" not in out.stderr and "Traceback" not in out.stderr


def test_db_upgrade(tmp_path: Path) -> None:
    out = run(["db", "upgrade"], tmp_path)
    assert out.returncode == 0 and "up to date" in out.stdout
    assert (tmp_path / "cli.db").exists()


@pytest.mark.parametrize("args", [["ask"], ["ask", "--lang", "xx", "hi"], ["nonsense"]])
def test_bad_arguments_are_rejected_cleanly(tmp_path: Path, args: list[str]) -> None:
    out = run(args, tmp_path)
    assert out.returncode == 2 and "usage:" in out.stderr and "Traceback" not in out.stderr


def test_chat_json_gives_each_message_its_replies_with_buttons(tmp_path: Path) -> None:
    lines = "who leads health in sudan?\nand in haiti?\n/checklist\n"
    out = run(["chat", "--json", "--user", "nour"], tmp_path, stdin=lines)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert [r["message"] for r in rows] == lines.splitlines()
    follow = rows[1]["replies"][0]
    assert follow["intent"] == "who_leads" and follow["lang"] == "en"
    assert "Haiti" in follow["text"] and "World Health Organization" in follow["text"]
    checklist = rows[2]["replies"][0]
    assert checklist["choices"] == [] or all("action" in c for c in checklist["choices"])
    assert "Question 1 of" in checklist["text"]


def test_the_interactive_chat_edits_lines_and_keeps_history(
    tmp_path: Path, migrated_db: Path
) -> None:
    """At a real terminal (a pty), arrow keys edit the line and recall the last one."""
    import pty
    import select

    shutil.copyfile(migrated_db, tmp_path / "tty.db")
    env = {
        **os.environ,
        "CLUSTERBOT_DATABASE_URL": f"sqlite:///{tmp_path / 'tty.db'}",
        "HOME": str(tmp_path),
        "TERM": "xterm",
    }
    leader, follower = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--user", "tty"],
        stdin=follower,
        stdout=follower,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    os.close(follower)
    seen = b""

    def read_until(marker: bytes, timeout: float = 60) -> None:
        nonlocal seen
        deadline = time.monotonic() + timeout
        while marker not in seen and time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 0.5)
            if ready:
                seen += os.read(leader, 65536)
        assert marker in seen, seen.decode(errors="replace")

    try:
        read_until(b"> ")
        os.write(leader, b"/whoamx\x1b[D\x1b[3~i\r")  # left, delete the x, type i: "/whoami"
        read_until(b"You are console:tty")
        seen = b""
        os.write(leader, b"\x1b[A\r")  # up: the last line again
        read_until(b"You are console:tty")
        os.write(leader, b"/quit\r")
        proc.wait(timeout=30)
    finally:
        proc.kill()
        os.close(leader)
    assert "/whoami" in (tmp_path / ".clusterbot_history").read_text()
