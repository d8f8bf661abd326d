"""Ask anything: a parent's question about the process and their rights, answered by quoting the
knowledge base (core/data/kb/, the rights pages, a council's own folder) or declined.

    kb = load_kb(extra_dir)            # at start: every file checked (KBError names file and problem)
    reply = kb.ask("can i apeal if they say no to assesing my son")
    if isinstance(reply, Answer):      # reply.excerpt (the passage's own sentences), reply.citation
        ...
    else:                              # Declined: offer "Ask the SEND team" with the question
        ...

Offline: no network, no model; see core/knowledge/search.py for how it ranks and declines.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from core.knowledge.base import KBError, KBFile, Licence, Passage, Source, load_files
from core.knowledge.search import (
    MIN_COVERAGE,
    MIN_MATCHED,
    Answer,
    Declined,
    Hit,
    Index,
    excerpt,
)

MAX_QUESTION = 1000  # characters read of one question


@dataclass(slots=True)
class KnowledgeBase:
    files: list[KBFile]
    index: Index
    min_coverage: float = MIN_COVERAGE
    min_matched: int = MIN_MATCHED

    @property
    def passages(self) -> list[Passage]:
        return self.index.passages

    def get(self, passage_id: str) -> Passage | None:
        return next((p for p in self.index.passages if p.id == passage_id), None)

    def search(self, question: str, k: int = 3) -> list[Hit]:
        """The best k passages for the question, best first (whether or not one would be answered)."""
        return self.index.search(question[:MAX_QUESTION], k)[1]

    def ask(self, question: str) -> Answer | Declined:
        q, hits = self.index.search(question[:MAX_QUESTION], 3)
        if not q.content:
            return Declined(question, "no words the knowledge base knows", tuple(hits))
        if not hits:
            return Declined(question, "no passage shares a word with the question", ())
        best = hits[0]
        if best.coverage < self.min_coverage or best.matched < self.min_matched:
            return Declined(question, f"the best passage covers {best.coverage:.0%} of the question",
                            tuple(hits))
        text = excerpt(best.passage, q, self.index.idf, self.index.max_idf)
        return Answer(question, best.passage, text, best.coverage, tuple(hits))


def load_kb(extra_dir: Path | None = None, *, facts: Mapping[str, str] | None = None,
            rights_dir: Path | None = None) -> KnowledgeBase:
    """Every passage (bundled, the rights pages with `facts` filled in, the council's folder),
    checked and indexed. Raises KBError naming the file and the problem."""
    files = load_files(extra_dir, facts=facts, rights_dir=rights_dir)
    return KnowledgeBase(files, Index(p for f in files for p in f.passages))


__all__ = ["Answer", "Declined", "Hit", "KBError", "KBFile", "KnowledgeBase", "Licence", "Passage", "Source",
           "load_kb"]
