"""A rendered draft letter as a Word document (.docx) beside its Markdown, in its language.

The .docx is built from the letter's rendered text, so both files say exactly the same, in the
same translation. Our Markdown is a small subset: `#`/`##`/`###` headings, `- ` list items,
`**bold**`, and one paragraph a line. Placeholders in square brackets are highlighted, so the
person editing the letter sees what is left to fill. Arabic paragraphs run right to left
(`w:bidi`, `w:rtl`); Chinese text gets an East Asian font.
"""

import io
import re
from pathlib import PurePath
from typing import Any

# Fonts Word has on every system, with their usual stand-ins elsewhere (LibreOffice maps them).
LATIN_FONT = "Calibri"
EAST_ASIAN_FONT = "SimSun"
COMPLEX_FONT = "Arial"  # Word's font for right-to-left scripts unless told otherwise
LANGUAGE_TAGS = {"en": "en-GB", "fr": "fr-FR", "es": "es-ES", "zh": "zh-CN", "ar": "ar-SA"}
_AFTER_BIDI = (
    "w:adjustRightInd",
    "w:snapToGrid",
    "w:spacing",
    "w:ind",
    "w:contextualSpacing",
    "w:mirrorIndents",
    "w:suppressOverlap",
    "w:jc",
    "w:textDirection",
    "w:textAlignment",
    "w:textboxTightWrap",
    "w:outlineLvl",
    "w:divId",
    "w:cnfStyle",
    "w:rPr",
    "w:sectPr",
    "w:pPrChange",
)
_INLINE = re.compile(r"(\*\*[^*]+\*\*|\[[^\]\n]+\])")
# A backslash makes the character after it literal (what a user typed: "\*MSF\*", "\[x\]").
_ESCAPED = re.compile(r"\\([!-/:-@\[-`{-~])")
_HELD = re.compile("[\ue000-\ue07f]")


def documents(text: str, file_name: str, lang: str) -> dict[str, bytes]:
    """The letter as `<stem>.md` and `<stem>.docx`, by file name."""
    stem = PurePath(file_name).stem
    return {f"{stem}.md": (text + "\n").encode(), f"{stem}.docx": docx(text, lang)}


def docx_file(text: str, file_name: str, lang: str) -> tuple[str, bytes]:
    """The letter's Word file alone: its name and bytes (chat platforms send this one)."""
    return f"{PurePath(file_name).stem}.docx", docx(text, lang)


def docx(text: str, lang: str) -> bytes:
    """The Markdown-subset `text` as .docx bytes, laid out for `lang`."""
    from docx import Document  # a second's import, only when a letter is written

    doc = Document()
    _defaults(doc, lang)
    title = ""
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        level = len(line) - len(line.lstrip("#"))
        if 1 <= level <= 3 and line[level : level + 1] == " ":
            content = line[level + 1 :]
            title = title or content
            paragraph = doc.add_heading(level=level)
        elif line.startswith("- "):
            content = line[2:]
            paragraph = doc.add_paragraph(style="List Bullet")
        else:
            content = line
            paragraph = doc.add_paragraph()
        _runs(paragraph, content, lang)
        if lang == "ar":
            _right_to_left(paragraph)
    doc.core_properties.title = title
    doc.core_properties.language = LANGUAGE_TAGS.get(lang, lang)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def _runs(paragraph: Any, content: str, lang: str) -> None:
    """Plain, bold (`**x**`) and placeholder (`[x]`, highlighted) runs."""
    from docx.enum.text import WD_COLOR_INDEX

    # Escaped characters are held out of the way of the markup, then given back as typed.
    held = _ESCAPED.sub(lambda m: chr(0xE000 + ord(m.group(1))), content)
    for part in _INLINE.split(held):
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            run = paragraph.add_run(_given_back(part[2:-2]))
            run.bold = True
        else:
            run = paragraph.add_run(_given_back(part))
            if part.startswith("[") and part.endswith("]"):
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
        _fonts(run, lang)


def _given_back(text: str) -> str:
    return _HELD.sub(lambda m: chr(ord(m.group()) - 0xE000), text)


def _fonts(run: Any, lang: str) -> None:
    """Each run names its Latin, East Asian and complex-script fonts, and its language."""
    from docx.oxml.ns import qn

    rpr = run._element.get_or_add_rPr()
    fonts = rpr.get_or_add_rFonts()
    fonts.set(qn("w:ascii"), LATIN_FONT)
    fonts.set(qn("w:hAnsi"), LATIN_FONT)
    fonts.set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    fonts.set(qn("w:cs"), COMPLEX_FONT)
    if lang == "ar":
        rpr.append(rpr.makeelement(qn("w:rtl"), {}))


def _right_to_left(paragraph: Any) -> None:
    """An Arabic paragraph: right-to-left, so it starts at the right margin."""
    from docx.oxml.ns import qn

    ppr = paragraph._element.get_or_add_pPr()
    # The schema orders pPr's children: w:bidi goes before these.
    ppr.insert_element_before(ppr.makeelement(qn("w:bidi"), {}), *_AFTER_BIDI)


def _defaults(doc: Any, lang: str) -> None:
    """The document's language (spelling, hyphenation) and, for Chinese, its East Asian font."""
    from docx.oxml.ns import qn

    style = doc.styles["Normal"]
    style.font.name = LATIN_FONT
    rpr = style.element.get_or_add_rPr()
    rpr.get_or_add_rFonts().set(qn("w:eastAsia"), EAST_ASIAN_FONT)
    tag = LANGUAGE_TAGS.get(lang, lang)
    found = rpr.find(qn("w:lang"))
    element = found if found is not None else rpr.makeelement(qn("w:lang"), {})
    element.set(qn("w:val"), tag if lang not in ("zh", "ar") else "en-GB")
    if lang == "zh":
        element.set(qn("w:eastAsia"), tag)
    if lang == "ar":
        element.set(qn("w:bidi"), tag)
    if found is None:
        rpr.append(element)
