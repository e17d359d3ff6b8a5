"""Explicit mentions of Resolution 71-NQ/TW, told apart from other documents numbered 71."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from classify.lexicon import Lexicons
from classify.text import FIELDS, Doc

_SUFFIX_TW = re.compile(r"^\s*[-/]\s*nq\s*[-/]\s*(?:tw|tư|t\.ư|trung\s+ương)(?!\w)")
_SUFFIX_ANY = re.compile(r"^\s*[-/]\s*\S")
_STANDALONE = re.compile(r"(?<![\w/])71\s*[-/]\s*nq\s*[-/]\s*(?:tw|tư|t\.ư|trung\s+ương)(?!\w)")


@dataclass(frozen=True)
class Mention:
    """A "71" found after a resolution prefix: kept (explicit) or excluded (another document)."""

    text: str
    field: str
    start: int
    end: int
    explicit: bool
    why: str

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the evidence."""
        return {"text": self.text, "field": self.field, "start": self.start, "end": self.end, "why": self.why}


class ExplicitFinder:
    """Finds "Nghị quyết 71", "NQ 71", "71-NQ/TW" and the resolution's name; rejects 71/NQ-CP, 71/2025/NĐ-CP."""

    def __init__(self, lex: Lexicons) -> None:
        rules = lex.explicit
        prefixes = sorted(rules["prefixes"], key=len, reverse=True)
        alt = "|".join(r"\s+".join(map(re.escape, p.split())) for p in prefixes)
        self.prefixed = re.compile(rf"(?<!\w)(?:{alt})\s*71(?!\d)(?![,.]\d)")
        self.other_issuers = re.compile(
            r"^\s*(?:ngày\s+[\d/.-]+\s*)?(?:năm\s+\d{4}\s*)?(?:của|do)\s+(?:"
            + "|".join(map(re.escape, rules["other_issuers"]))
            + ")"
        )
        self.names = rules["names"]

    def find(self, doc: Doc) -> list[Mention]:
        """Every candidate mention in title, summary and text, each marked explicit or excluded."""
        out: list[Mention] = []
        for name in FIELDS:
            value = doc.field_text(name)
            if not value:
                continue
            low = value.lower()
            if len(low) != len(value):  # rare case-mapping length change: keep offsets valid
                low = "".join(c.lower() if len(c.lower()) == 1 else c for c in value)
            taken: list[tuple[int, int]] = []
            for m in self.prefixed.finditer(low):
                tail = low[m.end():m.end() + 60]
                s_tw = _SUFFIX_TW.match(tail)
                if s_tw:
                    end = m.end() + s_tw.end()
                    out.append(Mention(value[m.start():end], name, m.start(), end, True, "nq71_full"))
                elif _SUFFIX_ANY.match(tail):
                    end = m.end() + len(tail.split()[0]) if tail.split() else m.end()
                    end = min(end, len(value))
                    out.append(Mention(value[m.start():end], name, m.start(), end, False, "other_document_number"))
                elif self.other_issuers.match(tail):
                    out.append(Mention(value[m.start():m.end()], name, m.start(), m.end(), False, "other_issuer"))
                else:
                    out.append(Mention(value[m.start():m.end()], name, m.start(), m.end(), True, "nq71_short"))
                taken.append((m.start(), out[-1].end))
            for m in _STANDALONE.finditer(low):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                out.append(Mention(value[m.start():m.end()], name, m.start(), m.end(), True, "nq71_symbol"))
            for phrase in self.names:
                pos = low.find(phrase)
                while pos >= 0:
                    out.append(Mention(value[pos:pos + len(phrase)], name, pos, pos + len(phrase), True, "nq71_name"))
                    pos = low.find(phrase, pos + len(phrase))
        return out
