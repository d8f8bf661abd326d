"""Offline retrieval over the knowledge base: a question in a tired parent's words, the passage that
answers it quoted (its best sentences, as written), or "I don't know".

Nothing leaves the process and nothing is downloaded: the passages are ranked by SQLite FTS5's
bm25() in an in-memory database (the standard library's sqlite3). Before that, the question and
the passages go through the same normalisation: lower case, no punctuation, a small table of SEND
terms and their spellings ("echp", "ehc plan", "education health and care plan" are all "ehcp";
"LA" and "local authority" are "council"), a light stemmer, and for a word the passages never use,
the nearest one that they do (one or two typing slips, so "tribunel" is "tribunal").

Whether to answer is decided on how much of the question the best passage covers: the share of
the question's words, weighted by their rarity (IDF), found in it. A word the knowledge base has
never seen (and is not a slip away from one it has, nor from a filler word like "what") weighs
twice its rarest one: it is what takes a question out of the knowledge base's field ("how do I
claim child benefit", "legal aid for a divorce"), so such a question finds nothing that covers
enough of it and is declined. Filler words ("actually", "already") and a misspelt one ("wats")
weigh nothing; a child's condition ("autistic", "adhd") counts as special educational needs.
The thresholds were tuned on two thirds of bench/ask_eval.yaml, to decline 90% of its
unanswerable questions with one to spare, and checked on the held-out third (`make bench-ask`).
"""

from __future__ import annotations

import math
import re
import sqlite3
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from core.knowledge.base import Passage

# Tuned by `python -m bench.ask --tune` on the training two thirds of the evaluation set.
MIN_COVERAGE = 0.45
MIN_MATCHED = 1  # content words of the question found in the passage
UNKNOWN_WEIGHT = 2.0  # a word the knowledge base never uses weighs this many times its rarest word
RANK_COVERAGE = 0.6
RANK_HEADING = 0.5
MAX_SENTENCES = 3
MAX_EXCERPT = 700  # characters

# Phrases first (longest first), on lower-cased text with punctuation made spaces.
PHRASES: tuple[tuple[str, str], ...] = (
    ("education health and care needs assessment", "assessment"),
    ("education health and care plan", "ehcp"),
    ("education health care plan", "ehcp"),
    ("education and health care plan", "ehcp"),
    ("ehc needs assessment", "assessment"),
    ("statutory assessment", "assessment"),
    ("needs assessment", "assessment"),
    ("special educational needs co ordinator", "senco"),
    ("special educational needs coordinator", "senco"),
    ("special needs coordinator", "senco"),
    ("local government and social care ombudsman", "ombudsman"),
    ("local government ombudsman", "ombudsman"),
    ("first tier tribunal", "tribunal"),
    ("send tribunal", "tribunal"),
    ("sen tribunal", "tribunal"),
    ("local authority", "council"),
    ("local authorities", "council"),
    ("local education authority", "council"),
    ("ehc plan", "ehcp"),
    ("ehc p", "ehcp"),
    ("e h c p", "ehcp"),
    ("health care plan", "ehcp"),
    ("educational psychologist", "psychologist"),
    ("ed psych", "psychologist"),
    ("special educational needs", "sen"),
    ("special needs", "sen"),
    ("information advice and support", "sendiass"),
    ("direct payments", "direct payment"),
    ("turned down", "refuse"),
    ("said no", "refuse"),
    ("saying no", "refuse"),
    ("says no", "refuse"),
    ("say no", "refuse"),
    ("by when", "date"),
    ("how long", "date"),
    ("how many weeks", "date"),
    ("how many days", "date"),
    ("time limit", "date"),
    ("time limits", "date"),
    ("year old", "age"),
    ("years old", "age"),
    ("re assessment", "reassess"),
    ("re assess", "reassess"),
    ("home to school transport", "transport"),
    ("school transport", "transport"),
    ("taxi to school", "transport"),
    ("bus to school", "transport"),
)
# Single words: spellings and synonyms to one word.
WORDS: dict[str, str] = {
    "echp": "ehcp", "ehpc": "ehcp", "ehcps": "ehcp", "echps": "ehcp", "ehc": "ehcp", "ehcap": "ehcp",
    "ehcplan": "ehcp", "ehcpp": "ehcp", "hcp": "ehcp", "ehp": "ehcp", "ehcpl": "ehcp", "plan": "ehcp",
    "plans": "ehcp", "statement": "ehcp",
    "la": "council", "las": "council", "lea": "council", "councils": "council", "authority": "council",
    "sendist": "tribunal", "tribunals": "tribunal", "tribunal's": "tribunal", "judge": "tribunal",
    "sendco": "senco", "sencos": "senco", "senco's": "senco", "sendcos": "senco", "sen co": "senco",
    "sendias": "sendiass", "iass": "sendiass", "sendiass's": "sendiass", "ias": "sendiass",
    "sendiaz": "sendiass",
    "mediator": "mediation", "mediators": "mediation", "mediate": "mediation",
    "complain": "complaint", "complained": "complaint", "complaining": "complaint", "complaints": "complaint",
    "lgo": "ombudsman", "lgsco": "ombudsman", "ombudsmen": "ombudsman",
    "ep": "psychologist", "psych": "psychologist", "psychologists": "psychologist",
    "kid": "child", "kids": "child", "son": "child", "daughter": "child", "children": "child",
    "sons": "child", "daughters": "child", "childrens": "child",
    "apply": "ask", "applied": "ask", "applying": "ask", "application": "ask", "request": "ask",
    "requests": "ask", "requested": "ask", "requesting": "ask", "asking": "ask", "asked": "ask",
    "given": "give", "gave": "give", "giving": "give", "provided": "give", "providing": "give",
    "due": "date", "aged": "age", "17": "age", "18": "age", "19": "age", "21": "age", "25": "age",
    "childs": "child", "boy": "child", "girl": "child", "ds": "child", "dd": "child",
    "mum": "parent", "dad": "parent", "mom": "parent", "parents": "parent", "carer": "parent",
    "carers": "parent",
    "wks": "weeks", "wk": "week", "yr": "year", "yrs": "years", "annually": "annual",
    "refused": "refuse", "refusing": "refuse", "rejected": "refuse", "declined": "refuse",
    "reject": "refuse",
    "stop": "cease", "stopped": "cease", "stopping": "cease", "ceased": "cease", "ceasing": "cease", "scrap": "cease", "scrapped": "cease",
    "overdue": "late", "delayed": "late", "delay": "late", "missed": "miss", "misses": "miss",
    "deadline": "date", "deadlines": "date", "timescale": "date", "timescales": "date",
    "timeline": "date", "timeframe": "date",
    "cert": "certificate", "certificates": "certificate",
    "nursery": "school", "college": "school", "academy": "school", "placement": "school",
    "setting": "school", "schools": "school", "colleges": "school",
    "draught": "draft", "drafts": "draft",
    "money": "budget", "funding": "budget", "funds": "budget",
    "transport": "transport", "taxi": "transport", "bus": "transport", "travel": "transport",
    "lawyer": "solicitor", "legal": "law",
    "discriminated": "discrimination", "discriminating": "discrimination", "discriminate": "discrimination",
    "excluded": "discrimination", "exclusion": "discrimination",
    "teenager": "young", "teen": "young",
    # a child's condition: a question about it is one about special educational needs
    "autism": "sen", "autistic": "sen", "asd": "sen", "adhd": "sen", "add": "sen", "dyslexia": "sen",
    "dyslexic": "sen", "dyspraxia": "sen", "dyscalculia": "sen", "asc": "sen", "sensory": "sen",
}
# One word's neighbours, added to the question (a question about an appeal is one about the tribunal).
EXPAND: dict[str, tuple[str, ...]] = {
    "appeal": ("tribunal",), "tribunal": ("appeal",), "cease": ("stop",),
    "late": ("miss", "date"), "miss": ("date",), "refuse": ("decid",), "sendiass": ("advice",),
    "complaint": ("ombudsman",), "certificate": ("mediation",), "reassess": ("assess",),
    "budget": ("personal",), "senco": ("school",), "transport": ("travel",),
    "support": ("help",), "help": ("support",),
    "discrimination": ("disability",),
}
STOP = frozenset("""
a about above after again against all am an and any are aren as at be because been before being
below between both but by can cant could couldnt did didnt do does doesnt doing dont down
each few for from further get gets getting got had hadnt has hasnt have havent having he her here
hers herself him himself his how i id if im in into is isnt it its itself ive just know let lets me
more most my myself need no nor not now of off on once only or other ought our ours ourselves out
over own please same shant she should shouldnt so some such than thank thanks that thats the their
theirs them themselves then there theres these they theyre this those through to too under until
up very was wasnt we were werent what whats when whens where wheres which while who whos whom why
whys will with wont would wouldnt you youd youll youre youve your yours yourself yourselves hi hello
hey pls plz ok okay also still really just tell anyone someone something thing things want wanted
wants like am im ive going gonna wanna does doe tho though ur u r x xx lol its whether go goes
happen happens happened sorry bother quick question wondering wonder long often
even ever actually much lot lots never already enough ago yesterday today basically literally anyway
maybe probably soon ages
""".split())
_WORD = re.compile(r"[a-z0-9]+")
_STOP_BY_INITIAL: dict[str, tuple[str, ...]] = {
    c: tuple(sorted(w for w in STOP if w[0] == c and len(w) >= 3)) for c in {w[0] for w in STOP}}


def _slips(a: str, b: str, most: int) -> int:
    """The typing slips between two words (optimal string alignment: a letter missed, added or
    changed, or two neighbours swapped), or more than `most` once that many are passed."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > most:
            return most + 1
        prev2, prev = prev, cur
    return prev[-1]


def _stem(word: str) -> str:
    """A light English stemmer: enough that "reviews", "reviewed" and "reviewing" meet."""
    if len(word) <= 4 or word.isdigit():
        return word
    for suffix, rep in (("ments", ""), ("ment", ""), ("ings", ""), ("ing", ""), ("ied", "y"), ("ies", "y"),
                        ("edly", ""), ("ed", ""), ("sses", "ss"), ("es", "e"), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "s" and word.endswith(("ss", "us", "is")):
                break
            word = word[: len(word) - len(suffix)] + rep
            break
    if len(word) > 4 and word[-1] == word[-2] and word[-1] not in "lsz":
        word = word[:-1]
    if len(word) > 4 and word.endswith("e"):
        word = word[:-1]
    return word


def words(text: str) -> list[str]:
    """Lower case, punctuation out, the SEND phrases and spellings to one word (not stemmed)."""
    t = text.lower().replace("’", "'").replace("'", "")
    t = " " + " ".join(_WORD.findall(t)) + " "
    for phrase, to in PHRASES:
        if phrase in t:
            t = t.replace(f" {phrase} ", f" {to} ")
    return [WORDS.get(w, w) for w in t.split()]


def terms(text: str) -> list[str]:
    """The indexed terms of a passage: its words, stemmed, without the stop words."""
    return [_stem(w) for w in words(text) if w not in STOP]


@dataclass(frozen=True, slots=True)
class Hit:
    passage: Passage
    bm25: float  # FTS5's bm25(), made positive: higher is better
    coverage: float  # the share of the question's weight the passage covers, 0 to 1
    matched: int  # content words of the question found in it


@dataclass(frozen=True, slots=True)
class Answer:
    """The passage that answers, shortened to its best sentences (its own words, never made up)."""
    question: str
    passage: Passage
    excerpt: str
    confidence: float
    hits: tuple[Hit, ...] = field(default=())  # the best candidates, best first

    @property
    def citation(self) -> str:
        return self.passage.citation()

    def text(self) -> str:
        """The excerpt with its source and licence: what a face shows (in its own markup)."""
        return f"{self.excerpt}\n\n{self.citation}"


@dataclass(frozen=True, slots=True)
class Declined:
    """Nothing fits well enough: say so (and offer to ask the SEND team); never guess."""
    question: str
    reason: str
    hits: tuple[Hit, ...] = field(default=())


@dataclass(slots=True)
class _Question:
    content: list[str]  # the question's stemmed content terms (corrected), in order, unique
    unknown: int  # words the knowledge base has never seen (and could not correct)
    expanded: dict[str, tuple[str, ...]]  # term -> the terms that count as it


class Index:
    """The passages in an in-memory FTS5 table, with their terms for the coverage and excerpts."""

    def __init__(self, passages: Iterable[Passage]) -> None:
        self.passages = list(passages)
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.execute("CREATE VIRTUAL TABLE kb USING fts5(heading, body, tokenize='unicode61')")
        self.terms: list[set[str]] = []
        self.heading_terms: list[set[str]] = []
        df: Counter[str] = Counter()
        self.vocab: set[str] = set()
        for n, p in enumerate(self.passages):
            plain = _LINKS.sub(r"\1", p.text)
            h, b = terms(p.heading), terms(plain)
            self.db.execute("INSERT INTO kb(rowid, heading, body) VALUES (?, ?, ?)", (n, " ".join(h), " ".join(b)))
            self.terms.append(set(h) | set(b))
            self.heading_terms.append(set(h))
            df.update(self.terms[-1])
            self.vocab.update(w for w in words(p.heading + " " + plain) if w not in STOP)
        self.db.commit()
        total = max(len(self.passages), 1)
        self.idf = {t: math.log(1 + (total - c + 0.5) / (c + 0.5)) for t, c in df.items()}
        self.max_idf = max(self.idf.values(), default=1.0)
        self.stems = {_stem(w) for w in self.vocab}
        self._by_initial: dict[str, list[str]] = {}
        for t in sorted(self.stems | self.vocab):
            self._by_initial.setdefault(t[0], []).append(t)
        self._fixes: dict[str, str | None] = {}

    def _correct(self, word: str) -> str | None:
        """The nearest term the passages use, for a word they do not (None: nothing near enough).

        Near is a typing slip or two: for a word of 4 or 5 letters a letter missed or two swapped
        ("ofer", "anual"), of 6 or 7 one slip of any kind ("budjet", "reveiw"), of 8 or more two
        ("tribunel"); the word and then its stem ("assesing" is "assess") against the passages'
        words and stems; never a change of the first letter ("wage" is not "age"). So a real word
        the passages do not use is seldom taken for one they do ("snow" is not "show")."""
        if word in self._fixes:
            return self._fixes[word]
        fix = None
        if len(word) >= 4 and not word.isdigit():
            for w in dict.fromkeys((word, _stem(word))):
                near = self._nearest(w)
                if near is not None:
                    fix = near if near in self.stems else _stem(WORDS.get(near, near))
                    break
        self._fixes[word] = fix
        return fix

    @staticmethod
    def _filler(w: str) -> bool:
        """A word a letter away from a stop word: "wats" is "whats", "wen" is "when"."""
        if len(w) < 3:
            return False
        return any(s[0] == w[0] and abs(len(s) - len(w)) <= 1 and _slips(w, s, 1) <= 1 and
                   (len(s) == len(w) + 1 or len(w) >= 5) for s in _STOP_BY_INITIAL.get(w[0], ()))

    def _nearest(self, w: str) -> str | None:
        if len(w) < 4:
            return None
        most = 1 if len(w) <= 7 else 2
        best: tuple[int, float] | None = None
        found = None
        for t in self._by_initial.get(w[0], ()):
            if abs(len(t) - len(w)) > most or (len(w) <= 5 and not (
                    len(t) == len(w) + 1 or (len(t) == len(w) and sorted(t) == sorted(w)))):
                continue
            d = _slips(w, t, most)
            if d <= most and (best is None or (d, -self.idf.get(_stem(t), 0.0)) < best):
                best, found = (d, -self.idf.get(_stem(t), 0.0)), t
        return found

    def question(self, text: str) -> _Question:
        content: list[str] = []
        unknown = 0
        for w in words(text):
            if w in STOP:
                continue
            t = _stem(w)
            if t not in self.stems and w not in self.vocab:
                if self._filler(w):  # "wats", "wil": a misspelt word that says nothing
                    continue
                fixed = self._correct(w)
                if fixed is None:
                    unknown += 1
                    continue
                t = fixed
            if t not in content:
                content.append(t)
        expanded = {t: (t, *(_stem(x) for x in EXPAND.get(t, ()))) for t in content}
        for t in content:  # a word like "appeal" is the stem "appeal"; EXPAND is keyed by the word
            for key, extra in EXPAND.items():
                if _stem(key) == t:
                    expanded[t] = tuple(dict.fromkeys((*expanded[t], *(_stem(x) for x in extra))))
        return _Question(content, unknown, expanded)

    def search(self, text: str, k: int = 3) -> tuple[_Question, list[Hit]]:
        q = self.question(text)
        every = sorted({x for alts in q.expanded.values() for x in alts})
        if not every:
            return q, []
        match = " OR ".join(f'"{t}"' for t in every)
        rows = self.db.execute("SELECT rowid, -bm25(kb, 1.5, 1.0) FROM kb WHERE kb MATCH ? "
                               "ORDER BY bm25(kb, 1.5, 1.0) LIMIT 12", (match,)).fetchall()
        weight = {t: self.idf.get(t, self.max_idf) for t in q.content}
        total = sum(weight.values()) + q.unknown * UNKNOWN_WEIGHT * self.max_idf
        hits = []
        focus: dict[int, float] = {}
        for rowid, score in rows:
            have = self.terms[rowid]
            found = [t for t in q.content if any(x in have for x in q.expanded[t])]
            coverage = sum(weight[t] for t in found) / total if total else 0.0
            hits.append(Hit(self.passages[rowid], float(score), coverage, len(found)))
            focus[rowid] = self._focus(rowid, q)
        # bm25 orders; the share of the question covered and how much of the passage's heading
        # the question is about break near-ties ("what is an ehcp": "What an EHC plan is" first).
        top = max((h.bm25 for h in hits), default=1.0) or 1.0
        rows_of = {id(h): rowid for h, (rowid, _s) in zip(hits, rows, strict=True)}
        hits.sort(key=lambda h: h.bm25 / top + RANK_COVERAGE * h.coverage + RANK_HEADING * focus[rows_of[id(h)]],
                  reverse=True)
        return q, hits[:k]

    def _focus(self, rowid: int, q: _Question) -> float:
        """The share of the passage's heading (weighted by rarity) that the question asks about."""
        heading = self.heading_terms[rowid]
        if not heading:
            return 0.0
        asked = {x for alts in q.expanded.values() for x in alts}
        total = sum(self.idf.get(t, self.max_idf) for t in heading)
        return sum(self.idf.get(t, self.max_idf) for t in heading if t in asked) / total


_LINKS = re.compile(r"\[([^\]\n]+)\]\(([^)\s]+)\)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9(\"“'{])")


def units(text: str) -> list[str]:
    """A passage's sentences and list items, in order, each as written."""
    out: list[str] = []
    for line in text.split("\n"):
        line = line.rstrip()
        if not line.strip():
            continue
        if line.lstrip().startswith(("- ", "(")) or len(line) < 60:
            out.append(line)
        else:
            out += [s for s in _SENTENCE.split(line) if s.strip()]
    return out


def excerpt(passage: Passage, q: _Question, idf: dict[str, float], max_idf: float) -> str:
    """The passage shortened to the sentences that best match the question, in their order."""
    parts = units(passage.text)
    if len(passage.text) <= 320 or len(parts) <= 2:
        return passage.text
    want = {x: idf.get(t, max_idf) for t in q.content for x in q.expanded[t]}
    scored = []
    for n, u in enumerate(parts):
        have = set(terms(_LINKS.sub(r"\1", u)))
        scored.append((sum(w for x, w in want.items() if x in have), -n, n))
    scored.sort(reverse=True)
    chosen: list[int] = []
    length = 0
    for score, _neg, n in scored:
        if len(chosen) >= MAX_SENTENCES or (chosen and score <= 0):
            break
        if chosen and length + len(parts[n]) > MAX_EXCERPT:
            continue
        chosen.append(n)
        length += len(parts[n])
        # A list item reads wrong without the line that introduces it.
        if parts[n].lstrip().startswith("- ") and n > 0 and parts[n - 1].rstrip().endswith(":") \
                and n - 1 not in chosen:
            chosen.append(n - 1)
            length += len(parts[n - 1])
    if not chosen:
        chosen = [0, 1]
    chosen.sort()
    lines = []
    for i, n in enumerate(chosen):
        if i and n != chosen[i - 1] + 1:
            lines.append("…")
        lines.append(parts[n])
    return "\n".join(lines)


__all__ = ["Answer", "Declined", "Hit", "Index", "excerpt", "terms", "units", "words"]
