"""The "What can I do?" pages in the chat: a rights topic (core/rights.py) for the child's case,
rendered from its Markdown subset into the HTML Telegram shows."""

from __future__ import annotations

import re
from html import escape

from core.cases.dashboard import Dashboard
from core.config import Settings
from core.rights import Topic, Topics, facts_for

_BOLD = re.compile(r"\*\*(.+?)\*\*")
_LINK = re.compile(r"\[([^\]\n]+)\]\((https://[^)\s]+)\)")


_QUOTED = re.compile(r"\\([\\\[\]()*])")
_HELD = re.compile("\x00(\\d+)\x00")


def md_quote(value: str) -> str:
    """A fact (a name, a contact) as plain text in the pages' Markdown: its [ ] ( ) * and \\
    are quoted, so "[Pay here](https://...)" in a caseworker's name stays words, never a link."""
    return re.sub(r"([\\\[\]()*])", r"\\\1", value)


def to_html(markdown: str) -> str:
    """Paragraphs, "- " lists (as "• "), **bold** and [links](https://...), everything else escaped;
    a quoted character (md_quote) is shown as itself."""
    held: list[str] = []

    def hold(m: re.Match[str]) -> str:
        held.append(m.group(1))
        return f"\x00{len(held) - 1}\x00"

    markdown = _QUOTED.sub(hold, markdown.replace("\x00", ""))
    out = []
    for line in markdown.splitlines():
        text = escape(line, quote=False)
        text = _LINK.sub(lambda m: f'<a href="{escape(m.group(2))}">{m.group(1)}</a>', text)
        text = _BOLD.sub(r"<b>\1</b>", text)
        if text.startswith("- "):
            text = "• " + text[2:]
        out.append(text)
    return _HELD.sub(lambda m: escape(held[int(m.group(1))], quote=False), "\n".join(out))


def page_html(topic: Topic, d: Dashboard | None, settings: Settings) -> str:
    body = to_html(topic.page(facts_for(d, settings), md_quote))
    return f"<b>What can I do? {escape(topic.title)}</b>\n\n{body}"


def chosen_topic(topics: Topics, d: Dashboard | None, asked: str | None) -> Topic:
    """The topic asked for (a button's id is checked against the topics), else the stage's own
    page, else the free-help page."""
    if asked:
        found = topics.get(asked)
        if found is not None:
            return found
    if d is not None:
        own = topics.for_stage(d.stage)
        if own is not None:
            return own
    help_page = topics.get("help")
    assert help_page is not None  # required at start
    return help_page


def other_topics(topics: Topics, d: Dashboard | None, shown: Topic) -> list[tuple[str, str]]:
    """The buttons under a page: the stage's own page (when another is shown), then the topics for
    every stage, as (title, id)."""
    items: list[Topic] = []
    own = topics.for_stage(d.stage) if d is not None else None
    if own is not None and own.id != shown.id:
        items.append(own)
    items += [t for t in topics.general() if t.id != shown.id]
    return [(t.title, t.id) for t in items]


__all__ = ["chosen_topic", "md_quote", "other_topics", "page_html", "to_html"]
