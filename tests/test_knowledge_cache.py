"""The knowledge indexes kept on disk: built once, read back the same, rebuilt when the facts change."""

import shutil
from pathlib import Path

import pytest

from bot.settings import Settings
from knowledge import understand
from knowledge.base import load
from knowledge.facts import DATA_DIR


def test_a_cached_knowledge_base_answers_as_a_fresh_one(tmp_path: Path) -> None:
    built = load(cache_dir=tmp_path)
    [cache] = tmp_path.glob("knowledge-*.pickle")
    again = load(cache_dir=tmp_path)
    assert again is not built  # read back from the file
    for question in ("who leads WASH in Sudan?", "how many hours does the ERC have?", "那营养呢"):
        assert understand(question, again) == understand(question, built)
    assert list(tmp_path.glob("knowledge-*.pickle")) == [cache]


def test_a_change_to_the_facts_builds_a_new_cache(tmp_path: Path) -> None:
    data = tmp_path / "data"
    shutil.copytree(DATA_DIR, data)
    load(data, cache_dir=tmp_path / "cache")
    [first] = (tmp_path / "cache").glob("*.pickle")
    facts = data / "facts.yaml"
    facts.write_text(facts.read_text(encoding="utf-8") + "\n# changed\n", encoding="utf-8")
    load(data, cache_dir=tmp_path / "cache")
    [second] = (tmp_path / "cache").glob("*.pickle")
    assert second != first  # the old one is gone, the new one named by the new digest


def test_a_broken_cache_file_is_rebuilt_not_trusted(tmp_path: Path) -> None:
    load(cache_dir=tmp_path)
    [cache] = tmp_path.glob("knowledge-*.pickle")
    cache.write_bytes(b"not a pickle")
    kb = load(cache_dir=tmp_path)
    assert understand("who leads health", kb).intent == "who_leads"


def test_an_empty_setting_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CLUSTERBOT_CACHE_DIR", "")
    assert Settings().cache_dir is None


def test_compiled_templates_are_kept_and_follow_their_source(tmp_path: Path) -> None:
    from bot.core import Reply
    from bot.render import Renderer

    templates, cache = tmp_path / "templates", tmp_path / "cache"
    templates.mkdir()
    (templates / "t.j2").write_text("{{ _('Hello') }} <b>{{ name }}</b>\n", encoding="utf-8")
    reply = Reply("t.j2", {"name": "<x>"}, "en", "test")
    first = Renderer(("en", "fr"), templates, cache_dir=cache)
    assert first.html(reply) == "Hello <b>&lt;x&gt;</b>"
    [kept] = (cache / "templates").glob("template-*.cache")
    # Another process reads the compiled code back instead of compiling.
    again = Renderer(("en",), templates, cache_dir=cache)
    assert again.html(reply) == "Hello <b>&lt;x&gt;</b>"
    assert list((cache / "templates").glob("template-*.cache")) == [kept]
    # A changed template is compiled anew, never served from the old code.
    (templates / "t.j2").write_text("Bye {{ name }}\n", encoding="utf-8")
    assert Renderer(("en",), templates, cache_dir=cache).html(reply) == "Bye &lt;x&gt;"
    # A cache directory that cannot be made is simply not used.
    (tmp_path / "file").write_text("", encoding="utf-8")
    assert Renderer(("en",), templates, cache_dir=tmp_path / "file" / "c").html(reply)


def test_a_question_of_names_alone_never_loads_the_ranking_library(tmp_path: Path) -> None:
    """The cold path: bm25s (and numpy) load with the first question that has words to rank."""
    import subprocess
    import sys

    load(cache_dir=tmp_path)
    script = (
        "import sys\n"
        "from pathlib import Path\n"
        "from knowledge import load, understand\n"
        f"kb = load(cache_dir=Path({str(tmp_path)!r}))\n"
        "assert understand('who leads WASH', kb).intent == 'who_leads'\n"
        "assert 'bm25s' not in sys.modules and 'numpy' not in sys.modules\n"
        "assert understand('what are the activation criteria', kb).intent == 'concept'\n"
        "assert 'bm25s' in sys.modules\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
