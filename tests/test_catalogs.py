"""Every template string is translated in every language, with every plural form and placeholder."""

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from bot.render import LOCALES
from knowledge import LANGUAGES

PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")
POT = LOCALES / "messages.pot"


def catalog(lang: str):  # type: ignore[no-untyped-def]
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as fh:
        return read_po(fh, locale=lang)


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_catalog_is_complete_and_safe(lang: str) -> None:
    with POT.open("rb") as fh:
        template = read_po(fh)
    cat = catalog(lang)
    for message in template:
        if not message.id:
            continue
        got = cat.get(message.id)
        assert got is not None, (
            f"{lang}: {message.id!r} is not in the catalog (run pybabel update)"
        )
        assert not got.fuzzy, f"{lang}: {message.id!r} is fuzzy"
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = got.string if isinstance(got.string, tuple) else (got.string,)
        assert all(strings), f"{lang}: {message.id!r} has an empty translation or plural form"
        if isinstance(message.id, tuple):
            assert len(strings) == cat.num_plurals
        wanted = set(PLACEHOLDER.findall(ids[-1])) - {"num"}
        for s in strings:
            assert set(PLACEHOLDER.findall(s)) - {"num"} == wanted, (
                f"{lang}: placeholders in {s!r}"
            )
            assert not re.search(r"[<>]|&(?!amp;|lt;|gt;|quot;)", s), f"{lang}: markup in {s!r}"


def test_templates_and_catalog_template_agree(tmp_path: Path) -> None:
    """The .pot is regenerated from the templates (see README); stale entries fail here."""
    import subprocess
    import sys

    root = Path(__file__).parent.parent
    fresh = tmp_path / "fresh.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "babel.cfg",
            "--no-location",
            "-o",
            str(fresh),
            ".",
        ],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    )
    with fresh.open("rb") as fh:
        ids = {m.id for m in read_po(fh) if m.id}
    with POT.open("rb") as fh:
        current = {m.id for m in read_po(fh) if m.id}
    assert ids == current, (
        "run: pybabel extract -F babel.cfg --no-location -o templates/locale/messages.pot ."
    )


def test_the_arabic_catalog_names_a_lead_one_way() -> None:
    # The checklist's summary said "الجهة القائدة" and its letter "الجهة الرائدة": one term,
    # the one our Arabic knowledge uses ("الوكالة الرائدة").
    for message in catalog("ar"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for s in strings:
            assert "القائدة" not in s, s
