"""Text preparation: NFC, clean-up, sentences with spans, underthesea tokens once per item."""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

# Zero-width and bidi characters that break matching but are invisible to readers.
_INVISIBLE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad\u202a-\u202e]")
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")
_NEWLINES = re.compile(r"\s*\n\s*(\n\s*)*")
# "!!!!!" -> "!!!" and "?????" -> "???": keeps the shouting signal, bounds the length.
_REPEAT_PUNCT = re.compile(r"([!?.,])\1{3,}")
_SENT_END = re.compile(r"(?<=[.!?…])[\"”’)»]*\s+(?=[\"“‘(«]?[A-ZĐÀ-ỸÁÉÍÓÚÝ0-9])|\n+")

FIELDS = ("title", "summary", "text")
# Longer bodies are cut: the judgement is made by the start of an article, and tokenising is linear in length.
MAX_TEXT_CHARS = 20000
# How the fields are joined into one document; offsets in evidence are into the cleaned field text.
FIELD_SEP = "\n\n"


def nfc(value: str) -> str:
    """Unicode NFC (Vietnamese arrives as NFC or NFD; matching needs one form)."""
    return unicodedata.normalize("NFC", value)


def clean(value: str | None) -> str:
    """NFC, HTML entities decoded, invisible characters removed, whitespace and repeated punctuation tidied."""
    if not value:
        return ""
    out = nfc(html.unescape(value))
    out = _INVISIBLE.sub("", out)
    out = _SPACES.sub(" ", out)
    out = _NEWLINES.sub(lambda m: "\n\n" if m.group(0).count("\n") > 1 else "\n", out)
    out = _REPEAT_PUNCT.sub(lambda m: m.group(1) * 3, out)
    return out.strip()


@dataclass(frozen=True)
class Span:
    """A piece of the document: its text and its character offsets in one field."""

    text: str
    start: int
    end: int
    field: str

    def to_dict(self) -> dict[str, object]:
        """The JSON form stored with classifications."""
        return {"text": self.text, "start": self.start, "end": self.end, "field": self.field}


def split_sentences(value: str) -> list[tuple[int, int]]:
    """Sentence (start, end) offsets: split after . ! ? … before a capital/digit, and at line breaks."""
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT_END.finditer(value):
        if m.start() > pos:
            spans.append((pos, m.start()))
        pos = m.end()
    if pos < len(value):
        spans.append((pos, len(value)))
    out = []
    for s, e in spans:
        # strip leading/trailing spaces inside each span so offsets point at the words
        while s < e and value[s].isspace():
            s += 1
        while e > s and value[e - 1].isspace():
            e -= 1
        if e > s:
            out.append((s, e))
    return out


def word_tokens(value: str) -> list[str]:
    """underthesea word_tokenize: multi-syllable words keep their inner spaces."""
    from underthesea import word_tokenize

    if not value.strip():
        return []
    tokens: list[str] = word_tokenize(value)
    return tokens


def token_features(tokens: list[str]) -> str:
    """The linear models' input: words, syllables and syllable pairs, lower-cased, space-separated.

    Multi-syllable words keep ``_`` inside ("học_sinh"); every syllable also stands alone and beside the next one
    ("học~sinh") across word boundaries but not across punctuation. Syllables carry the meaning when the
    tokenizer segments unusual text differently from the training text (lower-cased feeds, headlines): on UIT-ViON
    dev a text-only model gained about 0.07 F1 from them over words alone (0.004 inside the full classifier).
    """
    out: list[str] = []
    prev = ""
    for tok in tokens:
        syls = tok.lower().split()
        if not any(c.isalnum() for c in tok):
            prev = ""
            continue
        if len(syls) > 1:
            out.append("_".join(syls))
        for syl in syls:
            out.append(syl)
            if prev:
                out.append(f"{prev}~{syl}")
            prev = syl
    return " ".join(out)


@dataclass
class Doc:
    """One item prepared once: cleaned fields, sentences, syllables and word tokens, shared by every model."""

    title: str = ""
    summary: str = ""
    text: str = ""
    _tokens: list[str] | None = field(default=None, repr=False)
    # where ``text`` starts in the cleaned body: a summary repeated at its start is cut off (counted once), and
    # evidence in ``text`` is moved back by this much so its offsets name the article's own words
    text_from: int = 0

    @classmethod
    def of(cls, title: str | None, summary: str | None, text: str | None) -> Doc:
        """Clean the three fields (a summary repeated at the start of the text is kept once)."""
        t, s, body = clean(title), clean(summary), clean((text or "")[: MAX_TEXT_CHARS * 2])[:MAX_TEXT_CHARS]
        b = body[len(s):].lstrip() if s and body.startswith(s) else body
        return cls(t, s, b, text_from=len(body) - len(b))

    def stored(self, value: Any) -> Any:
        """A copy of an evidence JSON value whose spans in ``text`` carry offsets into the whole cleaned body."""
        if isinstance(value, list):
            return [self.stored(v) for v in value]
        if not isinstance(value, dict):
            return value
        out = {k: self.stored(v) for k, v in value.items()}
        if out.get("field") == "text" and isinstance(out.get("start"), int) and isinstance(out.get("end"), int):
            out["start"] += self.text_from
            out["end"] += self.text_from
        return out

    def field_text(self, name: str) -> str:
        """The cleaned text of one field."""
        return str(getattr(self, name))

    @cached_property
    def full(self) -> str:
        """All fields joined (title first)."""
        return FIELD_SEP.join(x for x in (self.title, self.summary, self.text) if x)

    @property
    def tokens(self) -> list[str]:
        """underthesea word tokens of the whole item, computed once."""
        if self._tokens is None:
            self._tokens = word_tokens(self.full)
        return self._tokens

    @cached_property
    def features(self) -> str:
        """Token string for the linear models."""
        return token_features(self.tokens)

    @cached_property
    def _sentence_spans(self) -> dict[str, list[tuple[int, int]]]:
        return {name: split_sentences(self.field_text(name)) for name in FIELDS}

    def sentences(self) -> list[Span]:
        """Every sentence of every field, with field-relative offsets."""
        out: list[Span] = []
        for name in FIELDS:
            value = self.field_text(name)
            for s, e in self._sentence_spans[name]:
                out.append(Span(value[s:e], s, e, name))
        return out

    def sentence_at(self, name: str, offset: int) -> Span | None:
        """The sentence of a field that contains an offset."""
        value = self.field_text(name)
        for s, e in self._sentence_spans[name]:
            if s <= offset < e:
                return Span(value[s:e], s, e, name)
        return None
