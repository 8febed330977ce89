"""Slack's message format in and out: escaped text with <...> tokens in, mrkdwn out.

Incoming text is unescaped once and its tokens resolved; outgoing text is the renderer's HTML
subset turned into mrkdwn, with every piece of user text escaped and its marks disarmed.
"""

import html
import re

from bot.render import MARKUP_TAG, pack_lines

MAX_SECTION = 3000  # characters of one section's text


# ---- incoming text ------------------------------------------------------------------------------

_TOKEN = re.compile(r"<([^<>]*)>")


def _token_text(token: str) -> str:
    """One `<...>` token of Slack's message format as the plain text a reader sees."""
    target, _, label = token.partition("|")
    if target.startswith("@"):  # a user: <@U123> or <@U123|name>
        return f"@{label or target[1:]}"
    if target.startswith("#"):  # a channel: <#C1|name>
        return f"#{label or target[1:]}"
    if target.startswith("!"):  # <!channel>, <!here>, <!subteam^S1|@team>, <!date^...|text>
        if label:
            return label
        return f"@{target[1:].split('^', 1)[0]}"
    return label or target  # a link: <http://x|label>, <mailto:a@b>


def plain_text(text: str, bot_user: str | None = None) -> str:
    """Slack's escaped message text as the plain text the user typed; our own mention dropped.

    Slack escapes `& < >` and writes mentions, channels and links as `<...>` tokens: resolve
    the tokens, then unescape once, so `&amp;lt;` stays `&lt;` as the user wrote it.
    """
    if bot_user:
        text = re.sub(rf"<@{re.escape(bot_user)}(?:\|[^<>]*)?>", " ", text)
    text = _TOKEN.sub(lambda m: _token_text(m.group(1)), text)
    text = text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
    return re.sub(r"[ \t]{2,}", " ", text).strip()  # the gap a dropped mention leaves


# ---- outgoing text ------------------------------------------------------------------------------

_MARKS = {"b": "*", "i": "_", "s": "~", "code": "`", "pre": "```", "u": ""}


def escape(text: str) -> str:
    """Slack's own escaping: only `&`, `<` and `>` (a quote escaped would show as `&#39;`)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


ZWSP = "\u200b"
# Slack mrkdwn has no escape character: a zero-width space on each side of a marker keeps it
# from opening or closing *bold*, _italic_, ~strike~ or `code`. An underscore inside a word
# (snake_case) is no marker and stays as it is.
_MARKER = re.compile(r"[*~`]|(?<!\w)_|_(?!\w)")
_OVERRIDES = re.compile("[\u202a-\u202e\u2066-\u2069]")


def inert(text: str) -> str:
    """Text shown as typed in mrkdwn: formatting marks disarmed, direction overrides dropped.

    Our own formatting comes from the renderer's tags, never from the text between them.
    """
    return _MARKER.sub(lambda m: f"{ZWSP}{m.group(0)}{ZWSP}", _OVERRIDES.sub("", text))


def _link(href: str, label: str) -> str:
    """A link Slack shows as `label`; anything but a plain web address stays text."""
    url = html.unescape(href)
    if re.fullmatch(r"https?://[^\s<>|]+", url) and label:
        return f"<{escape(url)}|{label.replace('|', '¦')}>"
    return f"{label} ({escape(url)})" if label and url else label or escape(url)


def to_mrkdwn(markup: str) -> str:
    """The renderer's HTML subset as Slack mrkdwn, every piece of text escaped Slack's way.

    Text between our tags is unescaped from HTML and escaped again for Slack, so a user's
    `<!channel>` or `<@U1>` arrives as `&lt;!channel&gt;`: shown, never a mention.
    """
    out: list[str] = []
    link: list[str] | None = None  # the label being collected, while inside <a>
    href = ""
    quote = False
    pos = 0
    for m in MARKUP_TAG.finditer(markup):
        piece = escape(inert(html.unescape(markup[pos : m.start()])))
        if quote:
            piece = piece.replace("\n", "\n> ")
        (link if link is not None else out).append(piece)
        pos = m.end()
        closing, tag = m.group(1) == "/", m.group(2)
        if tag == "a":
            if not closing:
                link, href = [], m.group(3) or ""
            elif link is not None:
                out.append(_link(href, "".join(link)))
                link = None
        elif tag == "blockquote":
            quote = not closing
            if quote:
                out.append("> ")
        else:
            (link if link is not None else out).append(_MARKS[tag])
    tail = escape(inert(html.unescape(markup[pos:])))
    (link if link is not None else out).append(tail)
    if link is not None:  # an unclosed <a>: keep its words
        out.append("".join(link))
    return "".join(out)


def split_text(text: str, limit: int = MAX_SECTION) -> list[str]:
    """Slack mrkdwn in pieces of at most `limit` characters, cut between lines where possible."""
    chunks = pack_lines(text, limit, entities=True)
    if not chunks[-1].strip():
        chunks.pop()
    return chunks or [""]
