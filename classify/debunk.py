"""Debunks: items that report a circulating claim as false ("Sở GD&ĐT bác bỏ thông tin ...", "tin đồn thất thiệt").

Such an item repeats the rumour's words only to refute it: it is tagged `debunk`, its risk is lowered, and
a registry claim it matches is one it refutes, not one it repeats. Phrases live in config/lexicon/debunk.toml.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

from classify.errors import LexiconError
from classify.lexicon import DEFAULT_DIR, lexicon_file
from classify.text import Doc, Span, nfc

FILE = "debunk.toml"
# A denial is in the headline, the summary or the first paragraphs; deeper, it is usually background.
HEAD_CHARS = 1200


@dataclass(frozen=True)
class DebunkFinder:
    """The debunk phrases as one pattern, with the reason's label and weight."""

    pattern: re.Pattern[str]
    label: str
    weight: float

    @classmethod
    def load(cls, directory: Path | None = None) -> DebunkFinder:
        """Read debunk.toml from the lexicon folder (the shipped one when the folder has none)."""
        path = lexicon_file(FILE, directory)
        if not path.exists():
            path = DEFAULT_DIR / FILE
        try:
            raw = tomllib.loads(nfc(path.read_text(encoding="utf-8")))
            phrases = sorted({str(p).strip().lower() for p in raw["phrases"] if str(p).strip()}, key=len, reverse=True)
            weight = float(raw["weight"])
            label = str(raw["label"])
        except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LexiconError(f"{path}: not a valid debunk lexicon ({exc}); it needs label, weight and phrases") from None
        if not phrases or not 0.0 <= weight <= 1.0:
            raise LexiconError(f"{path}: give at least one phrase and a weight between 0 and 1")
        # whole syllables only: "bác tin" must not match inside a longer word
        body = "|".join(re.escape(p) for p in phrases)
        return cls(re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE), label, weight)

    def find(self, doc: Doc) -> Span | None:
        """The first debunk phrase, title first, or None."""
        for name in ("title", "summary", "text"):
            value = doc.field_text(name)[:HEAD_CHARS]
            m = self.pattern.search(value)
            if m:
                return Span(m.group(0), m.start(), m.end(), name)
        return None
