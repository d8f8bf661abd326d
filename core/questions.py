"""Ask anything (issue 17): a parent's free text, answered from the family's own case, from the
knowledge base (core/knowledge), or declined. Core decides and records; a face words it.

    reply = await services.questions.ask(chat_id, "when will i get the draft plan")
    CaseReply       the asking chat's own children's dashboards (the dashboard's access checks),
                    and what was asked about (Intent)
    KnowledgeReply  the quoted passage and its source, and the record a "Was this helpful?" names
    DeclinedReply   nothing answers well enough: never a guess
    NotLinked       the chat is not logged in: the face says how to start

One log line per question, with its outcome and never its text. The text is kept (for the council
to improve its pages) only when EHCP_QUESTION_RETENTION_DAYS allows, and only that many days.
"""

from __future__ import annotations

import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import get_close_matches
from enum import StrEnum

from sqlalchemy import update

from core.cases.dashboard import Dashboard, DashboardService
from core.knowledge import Answer, Declined, KnowledgeBase
from core.knowledge.search import _WORD, words
from core.models import AskedQuestion
from core.portal import Portal

log = logging.getLogger(__name__)

MAX_KEPT = 1000  # characters of a question kept, when the council's setting keeps them


class Intent(StrEnum):
    """What a question about the family's own case is about."""

    DATES = "dates"  # "when will I get the draft plan", "when is the decision due"
    CASEWORKER = "caseworker"  # "who is Sam's caseworker", "who do I contact"
    MESSAGES = "messages"  # "has anyone read my message", "any new messages"
    FORMS = "forms"  # "what forms do I need to fill in"
    DOCUMENTS = "documents"  # "have they sent the report yet", "documents not received"


class Outcome(StrEnum):
    ANSWERED = "answered"  # from the knowledge base
    DECLINED = "declined"
    CASE = "case"  # from the family's own case


# Words (as core.knowledge.search.words gives them: lower case, SEND spellings joined) that say
# what a question is about. A misspelt word of five letters or more counts as its nearest one.
_ABOUT: dict[str, Intent] = {
    **dict.fromkeys(("caseworker", "worker", "officer", "keyworker", "coordinator"), Intent.CASEWORKER),
    **dict.fromkeys(("message", "messages", "unread", "inbox"), Intent.MESSAGES),
    **dict.fromkeys(("form", "forms"), Intent.FORMS),
    **dict.fromkeys(("document", "documents", "letter", "letters", "paperwork", "report", "reports"),
                    Intent.DOCUMENTS),
    **dict.fromkeys(("draft", "final", "plan", "ehcp", "decision", "decide", "decided", "assessment", "assess",
                     "review", "annual", "case"), Intent.DATES),
}
# A reply from the SEND team is about messages ("have they replied yet"), unless the question is
# about a step of the process ("how long does the council have to reply to my request").
_REPLIES = frozenset("reply replied replies replys responded response respond answered".split())
# Words that make it the family's own case, not the process in general.
_MINE = frozenset("i im ive me my mine we our us hes shes son daughter child kid kids childs".split())
_WHEN = frozenset("when date dates deadline deadlines yet late ready news next".split())
_WHO = frozenset("who whos contact phone email number name speak talk call ring dealing handling charge".split())
_STATUS = frozenset("read seen opened reply replied answer answered back new unread any get got received".split())
_TODO = frozenset("fill complete do need needs outstanding waiting any new yet still havent done all finished "
                  "left".split())
_ARRIVED = frozenset("received receive waiting yet still outstanding any new havent arrived sent come came through "
                     "where".split())
# Words of the process and its other people: a question with one of them is about the process
# ("how long to appeal", "which form do i use send35", "who do i talk to at school"), unless it
# names the case fact outright ("who is my caseworker").
_PROCESS = frozenset("school mediation certificate appeal appealing tribunal complaint ombudsman lgo solicitor "
                     "send35 send35a comment representations info information find teacher senco progress".split())
_VOCAB = sorted(_ABOUT) + sorted(_REPLIES | _MINE | _WHEN | _WHO | _STATUS | _TODO | _ARRIVED)
_KNOWN = frozenset(_VOCAB) | _PROCESS

# The parent's own time limit ("how long do I have to comment"), not a date of the case.
_OWN_LIMIT = re.compile(r"\bhow long (do|have|did|would|will) (i|we) (have|got|get)\b|\bhow long to\b"
                        r"|\bhow long (have|do|does) (i|we|he|she|they) (got )?to (appeal|comment|complain|contact)")
# Asking what to do, not for a date: "the council missed the deadline what can I do".
_WHAT_TO_DO = re.compile(r"\bwhat (can|should|do|could) (i|we)\b|\bwhat now\b|\bcan i\b")

_SHORT = {"wen": "when", "whn": "when", "wehn": "when", "whne": "when", "hoo": "who", "whos": "who", "msg": "message",
          "msgs": "messages", "cw": "caseworker", "doc": "document", "docs": "documents", "wil": "will"}


def _near(word: str) -> str:
    word = _SHORT.get(word, word)
    if len(word) < 5 or word in _KNOWN:
        return word
    match = get_close_matches(word, _VOCAB, n=1, cutoff=0.8)
    return match[0] if match else word


def case_intent(text: str, names: tuple[str, ...] = ()) -> Intent | None:
    """The case fact a question asks for, or None (a question about the process, or nothing).

    It must be about the family ("my", "I", "we", a child's name) and ask for that fact: "when will
    I get the final plan" is one, "what is a final plan" is not, and neither is "how long do I have
    to comment on the draft" (the parent's own time limit) or "who do I talk to at school"."""
    plain = " ".join(_WORD.findall(text.lower().replace("’", "'").replace("'", "")))
    plain = plain.replace("case worker", "caseworker").replace("key worker", "keyworker")
    said = [_near(w) for w in words(plain)]
    seen = set(said)
    about = {_ABOUT[w] for w in said if w in _ABOUT}
    process = bool(seen & _PROCESS)
    if not (seen & _MINE or named(text, names)):
        if "who" in seen and Intent.CASEWORKER in about:  # "who is the caseworker"
            return Intent.CASEWORKER
        return None
    if Intent.MESSAGES in about and seen & (_STATUS | _WHO):
        return Intent.MESSAGES
    if seen & _REPLIES and not process and Intent.DATES not in about and Intent.DOCUMENTS not in about:
        return Intent.MESSAGES  # "have the send team replied to me yet"
    if Intent.FORMS in about and seen & _TODO and not process:
        return Intent.FORMS
    if Intent.DOCUMENTS in about and seen & _ARRIVED and not _WHAT_TO_DO.search(plain):
        return Intent.DOCUMENTS
    if Intent.CASEWORKER in about:
        return Intent.CASEWORKER
    if "who" in seen and seen & _WHO - {"who"} and not process and (about or named(text, names)
                                                                    or seen & {"child", "son", "daughter"}):
        return Intent.CASEWORKER  # "who do I ring about my son's plan"
    if (Intent.DATES in about and (seen & _WHEN or "how long" in plain) and not process
            and not _OWN_LIMIT.search(plain) and not _WHAT_TO_DO.search(plain)):
        return Intent.DATES
    return None


def named(text: str, names: tuple[str, ...]) -> list[str]:
    """The names (children's forenames) the question mentions, "Sam's" included."""
    said = set(words(text))
    said |= {w[:-1] for w in said if w.endswith("s")}
    return [n for n in names if n.lower() in said]


@dataclass(frozen=True, slots=True)
class CaseReply:
    intent: Intent
    dashboards: list[Dashboard]  # one per child answered for (the chat's own), by name


@dataclass(frozen=True, slots=True)
class KnowledgeReply:
    answer: Answer
    record_id: int
    key: str  # the record's secret, carried by its buttons (a forged press names no record)


@dataclass(frozen=True, slots=True)
class DeclinedReply:
    declined: Declined
    record_id: int
    key: str


@dataclass(frozen=True, slots=True)
class NotLinked:
    pass


Reply = CaseReply | KnowledgeReply | DeclinedReply | NotLinked


@dataclass
class Questions:
    portal: Portal
    kb: KnowledgeBase
    dashboard: DashboardService

    async def ask(self, chat_id: int, text: str) -> Reply:
        overview = await self.dashboard.overview(chat_id)
        if overview.account_id is None:
            log.info("question from a chat not logged in: not answered")
            return NotLinked()
        children = overview.children
        intent = case_intent(text, tuple(c.forename for c in children)) if children else None
        if intent is not None:
            asked = named(text, tuple(c.forename for c in children))
            dashboards = []
            for child in [c for c in children if c.forename in asked] or children:  # the chat's own children only, checked again
                seen = await self.dashboard.overview(chat_id, child.child_id)
                if seen.dashboard is not None:
                    dashboards.append(seen.dashboard)
            if dashboards:
                log.info("question outcome=%s intent=%s children=%d", Outcome.CASE, intent, len(dashboards))
                return CaseReply(intent, dashboards)
        reply = self.kb.ask(text)
        if isinstance(reply, Answer):
            record_id, key = await self._record(Outcome.ANSWERED, reply.passage.id, text)
            log.info("question outcome=%s passage=%s", Outcome.ANSWERED, reply.passage.id)
            return KnowledgeReply(reply, record_id, key)
        record_id, key = await self._record(Outcome.DECLINED, None, text)
        log.info("question outcome=%s", Outcome.DECLINED)
        return DeclinedReply(reply, record_id, key)

    async def _record(self, outcome: Outcome, passage_id: str | None, text: str) -> tuple[int, str]:
        """The question's record (its text only if the council's setting keeps it); texts kept
        longer than the setting allows are cleared on the way (and every day by
        clear_old_question_texts, whether or not anyone asks)."""
        days = self.portal.settings.product.question_retention_days
        now = self.portal.clock.now()
        key = secrets.token_urlsafe(6)
        row = AskedQuestion(key=key, outcome=str(outcome), passage_id=passage_id, asked_at=now,
                            question=text[:MAX_KEPT] if days > 0 else None)
        async with self.portal.db() as s, s.begin():
            s.add(row)
            await s.execute(_clear_before(now - timedelta(days=days)))
            await s.flush()
            return row.id, key

    async def is_known(self, record_id: int, key: str) -> bool:
        """Does this button name a real record (its id and its secret)?"""
        async with self.portal.db() as s:
            row = await s.get(AskedQuestion, record_id)
            return row is not None and secrets.compare_digest(row.key, key)

    async def helpful(self, record_id: int, key: str, yes: bool) -> bool:
        """"Was this helpful?" answered (the last answer counts). False: no such record."""
        async with self.portal.db() as s, s.begin():
            done = await s.execute(update(AskedQuestion).where(
                AskedQuestion.id == record_id, AskedQuestion.key == key, AskedQuestion.outcome == str(Outcome.ANSWERED),
            ).values(helpful=yes, rated_at=self.portal.clock.now()))
            ok = done.rowcount == 1
        log.info("question feedback helpful=%s recorded=%s", yes, ok)
        return ok


def _clear_before(cutoff: datetime):  # noqa: ANN202 - an UPDATE statement
    return update(AskedQuestion).where(AskedQuestion.question.is_not(None), AskedQuestion.asked_at < cutoff) \
        .values(question=None)


async def clear_old_question_texts(portal: Portal, *, ahead: timedelta = timedelta(0)) -> int:
    """Clear the kept text of every question older than EHCP_QUESTION_RETENTION_DAYS (0: every
    kept text), whether or not anyone has asked since; the outcome, the passage and "Was this
    helpful?" stay. `ahead`: also those that will be older by then (a daily job passes a day, so
    no text waits past its limit for the next run). Returns how many texts were cleared."""
    days = portal.settings.product.question_retention_days
    cutoff = portal.clock.now() - timedelta(days=days) + ahead
    async with portal.db() as s, s.begin():
        done = await s.execute(_clear_before(cutoff))
    cleared = done.rowcount or 0
    if cleared:  # quiet when there was nothing to clear
        log.info("question texts cleared=%d retention_days=%d", cleared, days)
    return cleared


__all__ = ["CaseReply", "DeclinedReply", "Intent", "KnowledgeReply", "NotLinked", "Outcome", "Questions", "Reply",
           "case_intent", "clear_old_question_texts"]
