"""Explicit mentions of Resolution 71-NQ/TW, told apart from other documents numbered 71."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from classify.lexicon import Lexicons
from classify.text import FIELDS, Doc

# Any other "-…" or "/…" after 71 (71/NQ-CP, 71/2025/NĐ-CP, 71-QĐ/UBND) is another document's number.
_SUFFIX_ANY = re.compile(r"^\s*[-/]\s*\S")


def suffix_pattern(suffixes: list[str]) -> str:
    """explicit.toml's accepted_suffixes as one regex: "nq/tw" also matches "NQ - TW", "nq/trung ương"."""
    alts = set()
    for suffix in suffixes:
        parts = [r"\s+".join(map(re.escape, part.split())) for part in re.split(r"\s*[-/]\s*", suffix)]
        alts.add(r"\s*[-/]\s*".join(parts))
    return "(?:" + "|".join(sorted(alts, key=len, reverse=True)) + r")(?!\w)"


def _issuer_pattern(issuers: list[str]) -> re.Pattern[str]:
    """ "của|do <issuer>" right after the number, an optional date between (an empty list matches nothing)."""
    if not issuers:
        return re.compile(r"(?!)")
    return re.compile(
        r"^\s*(?:ngày\s+[\d/.-]+\s*)?(?:năm\s+\d{4}\s*)?(?:của|do)\s+(?:" + "|".join(map(re.escape, issuers)) + ")"
    )


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
        suffix = suffix_pattern(rules["accepted_suffixes"])
        self.suffix_tw = re.compile(r"^\s*[-/]\s*" + suffix)
        self.standalone = re.compile(r"(?<![\w/])71\s*[-/]\s*" + suffix)
        self.other_issuers = _issuer_pattern(rules["other_issuers"])
        self.party_issuers = _issuer_pattern(rules["party_issuers"])
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
                s_tw = self.suffix_tw.match(tail)
                if s_tw:
                    end = m.end() + s_tw.end()
                    out.append(Mention(value[m.start():end], name, m.start(), end, True, "nq71_full"))
                elif _SUFFIX_ANY.match(tail):
                    end = m.end() + len(tail.split()[0]) if tail.split() else m.end()
                    end = min(end, len(value))
                    out.append(Mention(value[m.start():end], name, m.start(), end, False, "other_document_number"))
                elif self.other_issuers.match(tail):
                    out.append(Mention(value[m.start():m.end()], name, m.start(), m.end(), False, "other_issuer"))
                elif party := self.party_issuers.match(tail):
                    # "Nghị quyết 71 của Bộ Chính trị": named by its issuer, no education context needed
                    end = m.end() + party.end()
                    out.append(Mention(value[m.start():end], name, m.start(), end, True, "nq71_party"))
                else:
                    out.append(Mention(value[m.start():m.end()], name, m.start(), m.end(), True, "nq71_short"))
                taken.append((m.start(), out[-1].end))
            for m in self.standalone.finditer(low):
                if any(s <= m.start() < e for s, e in taken):
                    continue
                out.append(Mention(value[m.start():m.end()], name, m.start(), m.end(), True, "nq71_symbol"))
            for phrase in self.names:
                pos = low.find(phrase)
                while pos >= 0:
                    out.append(Mention(value[pos:pos + len(phrase)], name, pos, pos + len(phrase), True, "nq71_name"))
                    pos = low.find(phrase, pos + len(phrase))
        return out
