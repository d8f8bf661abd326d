"""A parent's rights in plain English, as data: one Markdown file per topic, each with its legal
sources and licence, checked at start as forms are (`load_topics`; a bad file stops the start).

The bundled topics are in core/data/rights/; a council's folder (EHCP_RIGHTS_DIR) adds its own or
replaces a bundled one with the same id. Each file:

    ---
    id: appeal                      # letters, digits and _ ; unique
    title: Appealing to the SEND Tribunal
    stages: [not_assessing, ...]    # the case stages whose "What can I do?" page this is
    sources: [Children and Families Act 2014, s.51, ...]   # at least one
    licence: OGL-3.0                # or "council" (the council's own words)
    ---
    Plain English. Paragraphs, "- " lists, **bold**, [links](https://...), and placeholders:
    {child} {council} {caseworker} {sendiass} {sendiass_contact} {mediation_adviser} and the
    case's dates ({appeal_by}, {decision_to_assess_by}, ...; see PLACEHOLDERS).

Content adapted from Crown-copyright sources (the SEND Code of Practice 2015, "SEND: a guide for
parents and carers", the legislation) is under the Open Government Licence v3.0: such a topic
says `licence: OGL-3.0` and is shown with the attribution (OGL_ATTRIBUTION). Charities' text is
never copied: the topics link to them.

`facts_for(dashboard, settings)` gives the placeholders' values for one child's case; the faces
render the Markdown subset in their own format.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from importlib.resources import files
from pathlib import Path

import yaml

from core.cases.dashboard import Dashboard
from core.config import Settings
from core.timescales import KeyDate, Stage, Status, format_date, key_dates

OGL_ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
LICENCES = ("OGL-3.0", "council")
# Topics every install needs: the "What can I do?" pages a missed date and the appeal rights link to.
REQUIRED = ("mediation", "appeal", "complaint", "missed_date", "help")
MAX_BODY = 3300  # characters before filling: the page, its buttons' titles and sources fit a chat message

PLACEHOLDERS = (
    "child", "council", "caseworker", "sendiass", "sendiass_contact", "mediation_adviser",
    "appeal_by", "mediation_by", "decision_to_assess_by", "no_plan_notice_by", "final_plan_by", "draft_comments_by",
    "annual_review_by", "review_report_by", "review_decision_by", "amendment_comments_by",
    "amended_plan_by",
)
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
_LINK = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")


class RightsError(ValueError):
    """A rights topic that cannot be used (the start stops with this message)."""


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    title: str
    stages: tuple[Stage, ...]
    sources: tuple[str, ...]
    licence: str
    body: str  # the Markdown subset, placeholders unfilled

    def page(self, facts: Mapping[str, str], quote: Callable[[str], str] = str) -> str:
        """The body with this case's facts filled in, then its sources (and the OGL attribution).
        `quote` makes a fact plain text in the face's markup (a caseworker's name that looks like
        a link must not become one)."""
        text = _PLACEHOLDER.sub(lambda m: quote(facts.get(m.group(1), "")), self.body).strip()
        text = re.sub(r"[ \t]+\n", "\n", text)
        foot = "Sources: " + "; ".join(self.sources) + "."
        if self.licence == "OGL-3.0":
            foot += " " + OGL_ATTRIBUTION
        return f"{text}\n\n{foot}"


@dataclass(frozen=True, slots=True)
class Topics:
    by_id: dict[str, Topic]

    def for_stage(self, stage: Stage) -> Topic | None:
        """The stage's own page (the first topic, in file-name order, that lists the stage)."""
        return next((t for t in self.by_id.values() if stage in t.stages), None)

    def get(self, topic_id: str) -> Topic | None:
        return self.by_id.get(topic_id)

    def general(self) -> list[Topic]:
        """The topics for every stage (mediation, appeal, complaint, ...), in file-name order."""
        return [t for t in self.by_id.values() if not t.stages]


def _parse(path: Path, text: str) -> Topic:
    where = path.name
    if not text.startswith("---\n"):
        raise RightsError(f"{where}: starts with a '---' block (id, title, stages, sources, licence).")
    try:
        head, body = text[4:].split("\n---\n", 1)
        meta = yaml.safe_load(head) or {}
    except (ValueError, yaml.YAMLError) as exc:
        raise RightsError(f"{where}: its '---' block is not readable: {exc}") from None
    if not isinstance(meta, dict):
        raise RightsError(f"{where}: its '---' block must be keys and values.")
    unknown = set(meta) - {"id", "title", "stages", "sources", "licence"}
    if unknown:
        raise RightsError(f"{where}: unknown keys: {', '.join(sorted(unknown))}.")
    topic_id, title = meta.get("id"), meta.get("title")
    if not isinstance(topic_id, str) or not _ID.match(topic_id):
        raise RightsError(f"{where}: id must be lower-case letters, digits and _ (at most 40).")
    if not isinstance(title, str) or not title.strip() or len(title) > 60:
        raise RightsError(f"{where}: title must be text of at most 60 characters (it is a button).")
    stages = meta.get("stages") or []
    if not isinstance(stages, list):
        raise RightsError(f"{where}: stages must be a list.")
    by_name = {s.name.lower(): s for s in Stage}
    bad = [s for s in stages if str(s) not in by_name]
    if bad:
        raise RightsError(f"{where}: unknown stages {bad}; known: {', '.join(sorted(by_name))}.")
    sources = meta.get("sources")
    if not isinstance(sources, list) or not sources or not all(isinstance(s, str) and s.strip() for s in sources):
        raise RightsError(f"{where}: sources must list at least one legal or published source.")
    licence = meta.get("licence")
    if licence not in LICENCES:
        raise RightsError(f"{where}: licence must be one of {', '.join(LICENCES)}.")
    body = body.strip()
    if not body:
        raise RightsError(f"{where}: has no text.")
    if len(body) > MAX_BODY:
        raise RightsError(f"{where}: is {len(body)} characters; at most {MAX_BODY} fit one chat message.")
    unknown_names = sorted(set(_PLACEHOLDER.findall(body)) - set(PLACEHOLDERS))
    if unknown_names:
        raise RightsError(f"{where}: unknown placeholders {unknown_names}; known: {', '.join(PLACEHOLDERS)}.")
    for _text, url in _LINK.findall(body):
        if not url.startswith("https://"):
            raise RightsError(f"{where}: links must be https:// addresses ({url}).")
    return Topic(topic_id, title.strip(), tuple(by_name[str(s)] for s in stages),
                 tuple(s.strip() for s in sources), licence, body)


def _read(folder: Path, into: dict[str, Topic], origin: dict[str, Path]) -> None:
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.md")):
        topic = _parse(path, path.read_text(encoding="utf-8"))
        if topic.id in seen:
            raise RightsError(f"{path.name}: id {topic.id!r} is also used by {seen[topic.id].name}.")
        seen[topic.id] = path
        into[topic.id] = topic
        origin[topic.id] = path


def load_topics(council_dir: Path | None = None) -> Topics:
    """The bundled topics, with the council's folder's added (a same id replaces a bundled one).
    Raises RightsError for a file that cannot be used, a missing required topic, or a stage with
    no page."""
    bundled = Path(str(files("core").joinpath("data/rights")))
    topics: dict[str, Topic] = {}
    origin: dict[str, Path] = {}
    _read(bundled, topics, origin)
    if council_dir is not None:
        if not council_dir.is_dir():
            raise RightsError(f"EHCP_RIGHTS_DIR {council_dir} is not a folder.")
        _read(council_dir, topics, origin)
    missing = [t for t in REQUIRED if t not in topics]
    if missing:
        raise RightsError(f"the rights topics {', '.join(missing)} are missing.")
    out = Topics(dict(sorted(topics.items(), key=lambda kv: origin[kv[0]].name)))
    uncovered = [s.name.lower() for s in Stage if out.for_stage(s) is None]
    if uncovered:
        raise RightsError(f"no rights topic for the stages: {', '.join(uncovered)}.")
    return out


# ------------------------------------------------------------------ one case's facts


def appeal_day(d: date) -> str:
    """The tribunal's last day as a parent reads it: "5pm on Mon 18 Jun 2023" (rule 12(1))."""
    return f"5pm on {d.strftime('%a')} {format_date(d)}"


def _by(kd: KeyDate | None, fallback: str) -> str:
    if kd is None or kd.due is None or kd.status is Status.NOT_APPLICABLE:
        return fallback
    if kd.status is Status.MET and kd.met_on is not None:
        return f"{format_date(kd.due)} (done on {format_date(kd.met_on)})"
    return format_date(kd.due)


def facts_for(d: Dashboard | None, settings: Settings, child: str = "your child") -> dict[str, str]:
    """The placeholders' values for one child's case (plain text), or general ones without a case."""
    p = settings.product
    kd = {k.key: k for k in d.key_dates} if d is not None else {}
    # Every rule's date, closed windows too (the dashboard keeps only the ones that apply now).
    every = {k.key: k for k in key_dates(d.events, d.today)} if d is not None else {}
    appeal = every.get("tribunal_appeal")
    if appeal is not None and appeal.due is not None and appeal.status is Status.DUE:
        appeal_by = f"The tribunal must have your appeal by {appeal_day(appeal.due)}."
    elif appeal is not None and appeal.due is not None and d is not None and d.today > appeal.due:
        appeal_by = (f"The time to appeal ended on {format_date(appeal.due)}. The tribunal can sometimes "
                     f"accept a late appeal. Contact {p.sendiass_name} today.")
    else:
        appeal_by = ("You have 2 months from the date on the council's decision letter, or 1 month from "
                     "the date on a mediation certificate if that is later.")
    if d is not None and d.caseworker_name:
        caseworker = f"{d.caseworker_name}, {d.contact}"
    else:
        caseworker = d.contact if d is not None else p.send_team_contact
    later = "a date the council will tell you"
    return {
        "child": d.child_forename if d is not None else child,
        "council": p.council_name,
        "caseworker": caseworker,
        "sendiass": p.sendiass_name,
        "sendiass_contact": p.sendiass_contact,
        "mediation_adviser": p.mediation_adviser,
        "appeal_by": appeal_by,
        "mediation_by": _by(kd.get("mediation_contact"), "2 months from the date on the council's decision letter"),
        "decision_to_assess_by": _by(kd.get("decision_to_assess"), "6 weeks from the request"),
        "no_plan_notice_by": _by(kd.get("assessment_decision"), "16 weeks from the request"),
        "final_plan_by": _by(kd.get("final_plan"), "20 weeks from the request"),
        "draft_comments_by": _by(kd.get("draft_plan_comments"), "15 days from the day the draft is sent"),
        "annual_review_by": _by(kd.get("annual_review"), "12 months from the plan or the last review"),
        "review_report_by": _by(kd.get("review_report"), "2 weeks from the meeting"),
        "review_decision_by": _by(kd.get("review_decision"), "4 weeks from the meeting"),
        "amendment_comments_by": _by(kd.get("amendment_comments"), "15 days from the day they are sent"),
        "amended_plan_by": _by(kd.get("amended_plan_after_review") or kd.get("amended_plan"), later),
    }


__all__ = ["OGL_ATTRIBUTION", "RightsError", "Topic", "Topics", "appeal_day", "facts_for", "load_topics"]
