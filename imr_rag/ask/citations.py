"""Numbered citations to exact passages, collected as an answer is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from imr_rag.schema import Answer, AnswerSentence, Citation


@dataclass
class AnswerBuilder:
    """Collects sentences and numbers citations in order of first use (one number per passage)."""

    text_of: Callable[[str], str]
    sentences: list[AnswerSentence] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    _numbers: dict[tuple[str, int, int], int] = field(default_factory=dict)

    def cite(self, doc_id: str, case_number: str | None, source: str, start: int, end: int, section: str | None = None) -> int:
        key = (doc_id, start, end)
        if key not in self._numbers:
            n = len(self.citations) + 1
            self._numbers[key] = n
            quote = self.text_of(doc_id)[start:end]
            self.citations.append(
                Citation(n=n, doc_id=doc_id, case_number=case_number, source=source, section=section,
                         start=start, end=end, quote=quote)
            )
        return self._numbers[key]

    def say(self, sentence: str, cites: list[int] | None = None) -> None:
        self.sentences.append(AnswerSentence(text=sentence, citations=cites or []))

    def answer(self, question: str, kind: str, mode: str = "offline") -> Answer:
        parts = [
            s.text + "".join(f" [{n}]" for n in s.citations) for s in self.sentences
        ]
        return Answer(question=question, text="\n".join(parts), sentences=self.sentences,
                      citations=self.citations, mode=mode, kind=kind)
