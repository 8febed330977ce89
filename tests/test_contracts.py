"""The import contracts catch a leak in a module nobody listed: they cover new code by construction."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent
LINT = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of our packages and contracts, to plant leaks in."""
    for package in ("bot", "handlers", "knowledge"):
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("data"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


LIBRARIES = "Platform libraries only inside bot.adapters"
INDEPENDENT = "Platform adapters do not import one another"
# A leak planted in a module (new, or an existing one's code kept): the contract that breaks.
LEAKS = [
    pytest.param("bot/leak.py", "import telegram\n", LIBRARIES, id="new-bot-module"),
    pytest.param("handlers/leak.py", "import slack_sdk\n", LIBRARIES, id="new-handler"),
    pytest.param("bot/web.py", "import slack_bolt\n", LIBRARIES, id="existing-module"),
    pytest.param(
        "bot/adapters/leak.py",
        "from bot.adapters import telegram\n",
        INDEPENDENT,
        id="new-adapter",
    ),
    pytest.param(
        "bot/adapters/slack/leak.py",
        "from bot.adapters.telegram import markup\n",
        INDEPENDENT,
        id="one-package-into-another",
    ),
]


@pytest.mark.parametrize(("module", "source", "contract"), LEAKS)
def test_a_planted_leak_breaks_a_contract(
    tree: Path, module: str, source: str, contract: str
) -> None:
    assert _lint(tree).returncode == 0  # the copy is clean
    planted = tree / module
    before = planted.read_text(encoding="utf-8") if planted.exists() else ""
    planted.write_text(before + source, encoding="utf-8")  # an existing module keeps its code
    out = _lint(tree)
    assert out.returncode != 0
    assert f"{contract}" in out.stdout and "BROKEN" in out.stdout, out.stdout
