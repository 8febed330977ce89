"""Render a Reply through its jinja2 template, in its language, to safe HTML or plain text.

One escaping step: templates autoescape every value into a small HTML subset (<b>, <i>, <code>,
<a>). Telegram takes that as it is; Slack and the terminal convert it; user text therefore never
becomes markup, a link or a mention anywhere. A reply that is also a Markdown file (the draft
letter) is rendered once more for the file (`Renderer.document`), where the values its template
marks `|typed` are made literal for Markdown too; in chat they read as typed.
"""

import hashlib
import html
import io
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from babel.support import NullTranslations, Translations
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.bccache import Bucket, BytecodeCache, FileSystemBytecodeCache
from markupsafe import Markup

from bot.core import Reply

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
LOCALES = TEMPLATES / "locale"
_TAG = re.compile(r"</?(?:b|i|u|s|code|pre|blockquote)>")
_LINK = re.compile(r'<a href="([^"]*)">(.*?)</a>', re.S)
# What Markdown would read as markup in a user's text; a backslash makes each one literal.
_MARKDOWN = re.compile(r"([\\`*_~\[\]<>|])")
_LINE_START = re.compile(r"^(\s*)([#>+-]|\d+[.)])")
# Set in the context of a render for a file: `|typed` values are then made literal Markdown.
_AS_FILE = "as_markdown_file"


def markdown_literal(text: str) -> str:
    """User text as it stands in a Markdown file: shown, never applied ("*MSF*", "<b>")."""
    text = _MARKDOWN.sub(r"\\\1", text)
    return _LINE_START.sub(lambda m: m.group(1) + "\\" + m.group(2), text)


@jinja2.pass_context
def _typed(context: jinja2.runtime.Context, value: Any) -> str:
    """A value the user typed: as it is in chat (each platform escapes it), literal in a file."""
    text = str(value)
    return markdown_literal(text) if context.get(_AS_FILE) else text


def load_translations(lang: str, locales: Path = LOCALES) -> NullTranslations:
    """The gettext catalog for `lang` (English: none).

    The compiled .mo (written by `make`, see README) is read when it is current; otherwise the
    .po is compiled in memory, which is slower but never serves stale text.
    """
    po = locales / lang / "LC_MESSAGES" / "messages.po"
    if not po.exists():
        return NullTranslations()
    mo = po.with_suffix(".mo")
    if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
        with mo.open("rb") as fh:
            return Translations(fh)
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    with po.open("rb") as fh:
        catalog = read_po(fh, locale=lang)
    buf = io.BytesIO()
    write_mo(buf, catalog)
    buf.seek(0)
    return Translations(buf)


@lru_cache(maxsize=8)
def _catalog(lang: str) -> NullTranslations:
    return load_translations(lang)


def translate(lang: str, message: str) -> str:
    """One message (a button label marked with N_ in handlers) from the `lang` catalog."""
    return str(_catalog(lang).gettext(message))


@lru_cache(maxsize=4)
def renderer_for(languages: tuple[str, ...], cache_dir: Path | None = None) -> "Renderer":
    """One shared renderer per set of languages: environments and catalogs load once."""
    return Renderer(languages, cache_dir=cache_dir)


# Every environment is made with these options, so one compiled template serves them all.
_OPTIONS: dict[str, Any] = {
    "autoescape": True,
    # Templates ship with the code: no stat() of the file on every render.
    "auto_reload": False,
    "undefined": StrictUndefined,
    "trim_blocks": True,
    "lstrip_blocks": True,
    "extensions": ["jinja2.ext.i18n"],
}


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once for all the languages' environments, and kept on disk.

    Compiling is most of a template's first render (about 10 ms each; a batch of `ask` used
    two dozen, five languages over). In memory, one compilation serves every environment; with
    a cache directory (CLUSTERBOT_CACHE_DIR) the next process loads the compiled code instead.
    Jinja checks each entry against the template's source; the key also names jinja2's version
    and the options the code was compiled under. An unreadable or unwritable directory is not
    used.
    """

    def __init__(self, directory: Path | None) -> None:
        self.memory: dict[str, bytes] = {}
        self.disk = None
        if directory is not None:
            try:
                directory.mkdir(parents=True, exist_ok=True, mode=0o700)
                self.disk = FileSystemBytecodeCache(str(directory), "template-%s.cache")
            except OSError:
                pass
        salt = repr((jinja2.__version__, sorted(_OPTIONS.items(), key=str), "newstyle"))
        self.salt = hashlib.sha256(salt.encode()).hexdigest()[:12]
        if self.disk is not None:
            # Code compiled under another jinja2 or other options is never read again.
            for old in directory.glob("template-*.cache"):  # type: ignore[union-attr]
                if not old.name.startswith(f"template-{self.salt}-"):
                    old.unlink(missing_ok=True)

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return f"{self.salt}-{super().get_cache_key(name, filename)[:20]}"

    def load_bytecode(self, bucket: Bucket) -> None:
        kept = self.memory.get(bucket.key)
        if kept is not None:
            bucket.bytecode_from_string(kept)
        elif self.disk is not None:
            try:
                self.disk.load_bytecode(bucket)
            except OSError:
                bucket.reset()
            if bucket.code is not None:
                self.memory[bucket.key] = bucket.bytecode_to_string()

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.memory[bucket.key] = bucket.bytecode_to_string()
        if self.disk is not None:
            try:
                self.disk.dump_bytecode(bucket)
            except OSError:
                self.disk = None


# What a plain dict answers to as an attribute (`d.items`, `d.get`): every other name is a key.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Environment(Environment):
    """jinja2's Environment with the same results, without two costs paid on every render.

    A template's globals are a dict, not a ChainMap over the environment's: each render and
    each `{% import %}` copies or compares them key by key. `reply.data` is plain dicts, and
    `s.leads` on a dict tried the attribute first and raised AttributeError before the key.
    Together a third of a typical answer's rendering (benchmarks/answer_path.py).
    """

    def make_globals(self, d: Any = None) -> Any:
        # A copy when the template loads: the globals are all set before any template is.
        return {**self.globals, **(d or {})}

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                pass  # jinja2's own way, to the same undefined
        return super().getattr(obj, attribute)


def _direct_gettext(catalog: NullTranslations) -> dict[str, Any]:
    """jinja2's newstyle `_` and `ngettext`, calling the catalog directly.

    jinja2's `_` looks `gettext` up in the context and calls it through Context.call, which
    calls the catalog through Context.call again: three dispatches for each `_()`, a fifth of
    a typical answer's rendering. The same text: the catalog's message, marked safe under
    autoescape, then formatted with the variables (always, as jinja2 does).
    """

    @jinja2.pass_context
    def gettext(__context: jinja2.runtime.Context, __string: str, **variables: Any) -> str:
        rv = catalog.gettext(__string)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    @jinja2.pass_context
    def ngettext(
        __context: jinja2.runtime.Context,
        __singular: str,
        __plural: str,
        __num: int,
        **variables: Any,
    ) -> str:
        variables.setdefault("num", __num)
        rv = catalog.ngettext(__singular, __plural, __num)
        if __context.eval_ctx.autoescape:
            rv = Markup(rv)
        return rv % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}


class Renderer:
    """One jinja2 environment per language, each with its own catalog installed."""

    def __init__(
        self,
        languages: tuple[str, ...],
        templates: Path = TEMPLATES,
        cache_dir: Path | None = None,
    ) -> None:
        self.envs: dict[str, Environment] = {}
        loader = FileSystemLoader(str(templates))
        compiled = _CompiledTemplates(cache_dir / "templates" if cache_dir else None)
        for lang in languages:
            env = _Environment(loader=loader, bytecode_cache=compiled, **_OPTIONS)
            catalog = load_translations(lang, templates / "locale")
            env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
            env.globals.update(_direct_gettext(catalog))
            # What goes between two sentences: Chinese writes none after "。" or "："
            env.globals["gap"] = "" if lang == "zh" else " "
            # A colon before what follows: French spaces it ("Santé : OMS"), Chinese is full width.
            env.globals["colon"] = {"zh": "：", "fr": " : "}.get(lang, ": ")
            env.filters["typed"] = _typed
            self.envs[lang] = env

    def html(self, reply: Reply) -> str:
        """The reply as Telegram-style HTML with every value escaped."""
        env = self.envs.get(reply.lang) or self.envs["en"]
        text = env.get_template(reply.template).render(**reply.data)
        return _tidy(text)

    def plain(self, reply: Reply) -> str:
        """The reply as plain text, for the terminal and JSON output."""
        return to_plain(self.html(reply))

    def document(self, reply: Reply) -> str:
        """A reply that is also a file (`reply.file_name`, Markdown) as the file's text.

        The same text as in chat, but for what the user typed (the template's `|typed`
        values): a Markdown viewer shows it as typed, never as markup.
        """
        env = self.envs.get(reply.lang) or self.envs["en"]
        data = {**reply.data, _AS_FILE: True}
        return to_plain(_tidy(env.get_template(reply.template).render(**data)))


def _tidy(text: str) -> str:
    """Drop trailing spaces and runs of blank lines that template logic leaves behind."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out)


def to_plain(markup: str) -> str:
    """Strip our own tags and undo the escaping: user text comes back exactly as typed."""
    text = _LINK.sub(
        lambda m: f"{m.group(2)} ({m.group(1)})" if m.group(1) else m.group(2), markup
    )
    return html.unescape(_TAG.sub("", text))


# One tag of the HTML subset templates render to, for adapters that write another markup.
MARKUP_TAG = re.compile(r'<(/?)(b|i|u|s|code|pre|blockquote|a)(?: href="([^"]*)")?>')


def cut_line(line: str, limit: int, *, entities: bool = False) -> list[str]:
    """A line longer than `limit` in pieces, between words where it can.

    With `entities`, never inside an escape such as `&amp;` (Slack's text keeps them).
    """
    pieces = []
    while len(line) > limit:
        at = line.rfind(" ", limit // 2, limit)
        if at <= 0:
            at = limit
            amp = line.rfind("&", at - 5, at) if entities else -1
            if amp > 0 and ";" not in line[amp:at]:
                at = amp
        pieces.append(line[:at])
        line = line[at:].lstrip(" ")
    return [*pieces, line]


def pack_lines(text: str, limit: int, *, piece: int = 0, entities: bool = False) -> list[str]:
    """Lines joined into chunks of at most `limit` characters, cut between lines where possible.

    A longer line is cut between words into pieces of at most `piece` (default `limit`). The
    last chunk may be blank; callers decide whether a blank message is sent.
    """
    chunks: list[str] = []
    current = ""
    for line in text.split("\n"):
        for part in cut_line(line, piece or limit, entities=entities):
            joined = f"{current}\n{part}" if current else part
            if len(joined) > limit:
                chunks.append(current)
                current = part
            else:
                current = joined
    return [*chunks, current]
