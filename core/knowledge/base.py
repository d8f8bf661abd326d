"""The knowledge base's passages, as data: the bundled Markdown files in core/data/kb/, the
product's rights pages (core/data/rights, read through core.rights) cut at their bold headings,
and a council's own folder (EHCP_KB_DIR) in the same format. Every file is checked when it is
loaded; a bad one raises KBError naming the file and the problem.

A file:

    ---
    source:
      title: The SEND Code of Practice 2015       # what the passages come from
      url: https://www.gov.uk/...                 # https only
    licence:
      name: Open Government Licence v3.0
      url: https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/   # optional
      attribution: Contains public sector information licensed under the Open Government Licence v3.0.
    verbatim: true      # the passages are the source's own words (false: a summary in the
                        # product's or council's own words)
    ---
    A note on the file (not searched).

    ## The heading of one passage {#its_stable_id}

    The passage's text: paragraphs and "- " lists.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

import yaml

from core.rights import OGL_ATTRIBUTION, RightsError, Topic, load_topics

OGL = "Open Government Licence v3.0"
_ID = re.compile(r"^[a-z][a-z0-9_]{1,59}$")
_HEADING = re.compile(r"^##[ \t]+(.+?)[ \t]*\{#([^}\s]*)\}[ \t]*$")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
MAX_PASSAGE = 4000  # characters: a passage is a section, not a chapter
MIN_SECTION = 160  # characters: a rights page's shorter section joins the one before it

# Placeholders in the rights pages, filled for everyone (no one child's case): the faces may pass
# the council's own (core.rights.facts_for(None, settings)) instead.
GENERAL_FACTS: dict[str, str] = {
    "child": "your child",
    "council": "the council",
    "caseworker": "your caseworker",
    "sendiass": "Your local SEND information, advice and support service (SENDIASS)",
    "sendiass_contact": "",
    "mediation_adviser": "the mediation adviser named in the council's decision letter",
    "appeal_by": ("You have 2 months from the date on the council's decision letter, or 1 month from "
                  "the date on a mediation certificate if that is later."),
    "mediation_by": "2 months from the date on the council's decision letter",
    "decision_to_assess_by": "6 weeks from the request",
    "no_plan_notice_by": "16 weeks from the request",
    "final_plan_by": "20 weeks from the request",
    "draft_comments_by": "15 days from the day the draft is sent",
    "annual_review_by": "12 months from the plan or the last review",
    "review_report_by": "2 weeks from the meeting",
    "review_decision_by": "4 weeks from the meeting",
    "amendment_comments_by": "15 days from the day they are sent",
    "amended_plan_by": "a date the council will tell you",
}


class KBError(ValueError):
    """A knowledge-base file that cannot be used (the start stops with this message)."""


@dataclass(frozen=True, slots=True)
class Source:
    title: str
    url: str | None
    cites: tuple[str, ...] = ()  # the legal sources a rights page names


@dataclass(frozen=True, slots=True)
class Licence:
    name: str
    attribution: str
    url: str | None = None


@dataclass(frozen=True, slots=True)
class Passage:
    id: str
    heading: str
    text: str  # the Markdown subset, as written
    source: Source
    licence: Licence
    verbatim: bool  # the source's own words (a quotation), or a summary in the product's or council's
    file: str  # where it came from: "send_code_of_practice.md", "rights/appeal.md", a council's file

    def citation(self) -> str:
        """"Source: <title>, <url>. <attribution>" for the end of an answer."""
        where = self.source.title + (f", {self.source.url}" if self.source.url else "")
        if self.source.cites:
            where += " (" + "; ".join(self.source.cites) + ")"
        return f"Source: {where}. {self.licence.attribution}".strip()


@dataclass(frozen=True, slots=True)
class KBFile:
    name: str
    origin: str  # "bundled", "rights" or "council"
    source: Source
    licence: Licence
    verbatim: bool
    passages: tuple[Passage, ...]


# ------------------------------------------------------------------ one Markdown file


def _text(meta: dict, key: str, where: str, *, required: bool = True) -> str | None:
    value = meta.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise KBError(f"{where}: {key} must be text.")
    return value.strip()


def _https(url: str | None, where: str, what: str) -> str | None:
    if url is not None and not url.startswith("https://"):
        raise KBError(f"{where}: {what} must be an https:// address ({url}).")
    return url


def parse_file(path: Path, text: str, origin: str = "bundled") -> KBFile:
    where = path.name
    if not text.startswith("---\n"):
        raise KBError(f"{where}: must start with a '---' block naming its source and licence.")
    try:
        head, body = text[4:].split("\n---\n", 1)
        meta = yaml.safe_load(head) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise KBError(f"{where}: its '---' block is not readable: {exc}") from None
    if not isinstance(meta, dict):
        raise KBError(f"{where}: its '---' block must be keys and values.")
    unknown = set(meta) - {"source", "licence", "verbatim"}
    if unknown:
        raise KBError(f"{where}: unknown keys: {', '.join(sorted(map(str, unknown)))}.")
    src, lic = meta.get("source"), meta.get("licence")
    if not isinstance(src, dict):
        raise KBError(f"{where}: has no source (title and url of what its passages come from).")
    if not isinstance(lic, dict):
        raise KBError(f"{where}: has no licence (name and attribution).")
    source = Source(_text(src, "title", f"{where}: source") or "",
                    _https(_text(src, "url", f"{where}: source"), where, "source url"))
    licence = Licence(_text(lic, "name", f"{where}: licence") or "",
                      _text(lic, "attribution", f"{where}: licence") or "",
                      _https(_text(lic, "url", f"{where}: licence", required=False), where, "licence url"))
    if licence.name == OGL and OGL_ATTRIBUTION not in licence.attribution:
        raise KBError(f"{where}: the Open Government Licence needs its attribution: {OGL_ATTRIBUTION!r}.")
    verbatim = meta.get("verbatim", False)
    if not isinstance(verbatim, bool):
        raise KBError(f"{where}: verbatim must be true or false.")

    passages: list[Passage] = []
    heading: tuple[str, str, int] | None = None
    lines: list[str] = []

    def close() -> None:
        if heading is None:
            return
        title, pid, line_no = heading
        content = "\n".join(lines).strip()
        if not content:
            raise KBError(f"{where}: passage {pid!r} (line {line_no}) is empty.")
        if len(content) > MAX_PASSAGE:
            raise KBError(f"{where}: passage {pid!r} is {len(content)} characters; at most {MAX_PASSAGE}.")
        for _label, url in _LINK.findall(content):
            _https(url, where, f"a link in passage {pid!r}")
        passages.append(Passage(pid, title, content, source, licence, verbatim, f"{origin}/{where}"
                                if origin == "council" else where))

    first_line = head.count("\n") + 3
    for n, line in enumerate(body.split("\n"), start=first_line):
        if line.startswith("## "):
            close()
            m = _HEADING.match(line)
            if m is None:
                raise KBError(f"{where}: line {n}: a passage heading is '## Title {{#id}}'.")
            if not _ID.match(m.group(2)):
                raise KBError(f"{where}: line {n}: id {m.group(2)!r} must be lower-case letters, digits "
                              f"and _ (2 to 60, starting with a letter).")
            heading, lines = (m.group(1), m.group(2), n), []
        elif heading is not None:
            lines.append(line)
    close()
    if not passages:
        raise KBError(f"{where}: has no passages ('## Title {{#id}}' headings).")
    return KBFile(where, origin, source, licence, verbatim, tuple(passages))


# ------------------------------------------------------------------ the rights pages


def _slug(text: str) -> str:
    return "_".join(re.findall(r"[a-z0-9]+", text.lower()))[:40].strip("_")


def rights_passages(topic: Topic, facts: Mapping[str, str]) -> list[Passage]:
    """One rights page cut at its bold lines ("**By when**"): the opening, then each section."""
    body = _PLACEHOLDER.sub(lambda m: facts.get(m.group(1), ""), topic.body)
    body = re.sub(r"[ \t]+\n", "\n", re.sub(r"[ \t]{2,}", " ", body))
    source = Source(f"{topic.title} (this service's rights page)", None, topic.sources)
    licence = (Licence(OGL, OGL_ATTRIBUTION) if topic.licence == "OGL-3.0"
               else Licence("council", "The council's own words."))
    chunks: list[tuple[str, str, list[str]]] = [(f"rights_{topic.id}", topic.title, [])]
    for line in body.split("\n"):
        m = re.fullmatch(r"\*\*(.+?)\*\*\s*", line)
        if m:
            chunks.append((f"rights_{topic.id}_{_slug(m.group(1))}", f"{topic.title}: {m.group(1)}", []))
        else:
            chunks[-1][2].append(line)
    # The opening goes with the first section, and a short section with the one before it: a
    # passage answers on its own ("Do it as soon as you can" does not).
    merged: list[tuple[str, str, str]] = []
    for n, (pid, heading, lines) in enumerate(chunks):
        text = "\n".join(lines).strip()
        if n > 0:
            text = f"**{heading.split(': ', 1)[1]}**\n\n{text}".strip()
        if merged and (n == 1 or len(text) < MIN_SECTION):
            first_id, first_heading, before = merged.pop()
            keep_heading = first_heading if n > 1 else topic.title + ": " + heading.split(": ", 1)[1]
            merged.append((first_id, keep_heading, f"{before}\n\n{text}".strip()))
        elif text:
            merged.append((pid, heading, text))
    return [Passage(pid, heading, text, source, licence, False, f"rights/{topic.id}.md")
            for pid, heading, text in merged if text]


# ------------------------------------------------------------------ everything


def bundled_dir() -> Path:
    return Path(str(files("core").joinpath("data/kb")))


def load_files(extra_dir: Path | None = None, *, facts: Mapping[str, str] | None = None,
               rights_dir: Path | None = None) -> list[KBFile]:
    """The bundled files, the rights pages (bundled and `rights_dir`'s) and the council's folder,
    each checked; ids unique across all of them. Raises KBError."""
    out: list[KBFile] = [parse_file(p, p.read_text(encoding="utf-8")) for p in sorted(bundled_dir().glob("*.md"))]
    try:
        topics = load_topics(rights_dir)
    except RightsError as exc:
        raise KBError(f"rights pages: {exc}") from None
    filled = {**GENERAL_FACTS, **(facts or {})}
    for topic in topics.by_id.values():
        ps = tuple(rights_passages(topic, filled))
        out.append(KBFile(f"rights/{topic.id}.md", "rights", ps[0].source, ps[0].licence, False, ps))
    if extra_dir is not None:
        if not extra_dir.is_dir():
            raise KBError(f"EHCP_KB_DIR {extra_dir} is not a folder.")
        own = sorted(extra_dir.glob("*.md"))
        if not own:
            raise KBError(f"EHCP_KB_DIR {extra_dir} has no .md files.")
        out += [parse_file(p, p.read_text(encoding="utf-8"), "council") for p in own]
    seen: dict[str, str] = {}
    for f in out:
        for p in f.passages:
            if p.id in seen:
                raise KBError(f"{p.file}: passage id {p.id!r} is also used in {seen[p.id]}.")
            seen[p.id] = p.file
    return out


__all__ = ["GENERAL_FACTS", "KBError", "KBFile", "Licence", "Passage", "Source", "load_files", "parse_file"]
