"""Editable lexicons (config/lexicon/*.toml) and a fast longest-match phrase finder over syllables."""

from __future__ import annotations

from classify.errors import LexiconError  # noqa: F401 - re-exported

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from classify.text import Doc, FIELDS, nfc

# The shipped lexicons (package data of `config`; a folder on disk, as pip installs it, so Path is safe).
DEFAULT_DIR = Path(str(resources.files("config") / "lexicon"))
# The user's own lexicons, relative to the working folder like NQ71_SOURCES' default: each file there overrides.
USER_DIR = Path("config") / "lexicon"
_SYL = re.compile(r"\w+(?:[.,/&-]\w+)*%?", re.UNICODE)

THEME_POLICY_WEIGHT = 1.0
THEME_TOPIC_WEIGHT = 0.4
# Phrases that contain a theme phrase but mean something else ("bác sĩ nội trú"): matched so that they consume
# their span, then dropped from the hits (see Lexicons.find).
EXCLUDED_KEY = "0:loai_tru"
# policy_markers.toml: list name -> (namespace, key, weight) of its phrases (see api.Classifier._reports_policy)
POLICY_MARKER_LISTS: dict[str, tuple[str, str, float]] = {
    "terms": ("policy", "marker", 1.0),
    "changes": ("change", "change", 1.0),
    "foreign": ("place", "foreign", 1.0),
    "neutral_places": ("place", "neutral", 0.0),
    "home": ("place", "home", 1.0),
    "incidents": ("incident", "incident", 1.0),
    "individual": ("individual", "individual", 1.0),
    "one_school_openers": ("one_school", "one_school", 1.0),
    "all_schools_openers": ("one_school", "all_schools", 0.0),
}

# Every key each lexicon file may hold, and the keys of its tables: a key nobody reads is refused at load
# (a misspelt or left-over key would otherwise be silently ignored while the code hard-codes the fact).
SCHEMA: dict[str, dict[str, set[str] | None]] = {
    "education": {"group": {"name", "weight", "terms"}},
    "themes": {"theme": {"number", "name", "chinh_sach", "chu_de"}, "loai_tru": None},
    "policy_markers": {name: None for name in POLICY_MARKER_LISTS},
    "risk": {"signal": {"code", "label", "weight", "terms", "decrease"}},
    "sources": {"kind": {"label", "official", "risk"}, "reach": None},
    "explicit": {k: None for k in ("prefixes", "accepted_suffixes", "other_issuers", "party_issuers", "names")},
}


def unknown_keys(name: str, data: dict[str, Any]) -> list[str]:
    """Keys of one lexicon file that no code reads ("kind.press.oficial", "reach" in explicit.toml ...)."""
    allowed = SCHEMA[name]
    bad = [k for k in data if k not in allowed]
    for key, inner in allowed.items():
        if inner is None or key not in data:
            continue
        tables = data[key] if isinstance(data[key], list) else list(data[key].values())
        for i, table in enumerate(tables):
            label = f"{key}[{i}]" if isinstance(data[key], list) else f"{key}.{list(data[key])[i]}"
            bad += [f"{label}.{k}" for k in (table if isinstance(table, dict) else {}) if k not in inner]
    return bad


def lexicon_file(name: str, directory: Path | None = None) -> Path:
    """`name` in an explicit folder; else the user's config/lexicon/ copy if there is one, else the shipped file."""
    if directory is not None:
        return directory / name
    user = USER_DIR / name
    return user if user.is_file() else DEFAULT_DIR / name


def default_dir() -> Path:
    """The folder lexicons are read from without an explicit one (files the user's folder lacks come from DEFAULT_DIR)."""
    return USER_DIR if USER_DIR.is_dir() else DEFAULT_DIR


def syllables(value: str) -> list[tuple[str, int, int]]:
    """Lower-cased syllables with offsets; "GD&ĐT", "71-NQ/TW", "100%" stay one syllable each."""
    low = nfc(value).lower()
    return [(m.group(0), m.start(), m.end()) for m in _SYL.finditer(low)]


def phrase_key(term: str) -> tuple[str, ...]:
    """The syllable tuple a lexicon term is matched as."""
    return tuple(s for s, _, _ in syllables(term))


@dataclass(frozen=True)
class Entry:
    """What a phrase means in one namespace (education group, theme, risk signal ...)."""

    namespace: str
    key: str
    weight: float


@dataclass(frozen=True)
class Hit:
    """A phrase found in a document."""

    namespace: str
    key: str
    weight: float
    text: str
    field: str
    start: int
    end: int

    def evidence(self) -> dict[str, Any]:
        """The evidence span in JSON form."""
        return {"text": self.text, "start": self.start, "end": self.end, "field": self.field}


class PhraseIndex:
    """Phrases (syllable tuples) -> entries; longest match wins inside each namespace."""

    def __init__(self) -> None:
        self.phrases: dict[tuple[str, ...], dict[str, list[Entry]]] = {}
        self.prefixes: set[tuple[str, ...]] = set()

    def add(self, term: str, entry: Entry) -> None:
        """Register one term."""
        key = phrase_key(term)
        if not key:
            return
        per_ns = self.phrases.setdefault(key, {})
        bucket = per_ns.setdefault(entry.namespace, [])
        if entry not in bucket:
            bucket.append(entry)
        for n in range(1, len(key) + 1):
            self.prefixes.add(key[:n])

    def find(self, syls: list[tuple[str, int, int]], field_name: str, source: str) -> list[Hit]:
        """All hits in one field, non-overlapping within each namespace (longest first, left to right)."""
        words = [w for w, _, _ in syls]
        consumed: dict[str, int] = {}
        hits: list[Hit] = []
        size = len(words)
        prefixes, phrases = self.prefixes, self.phrases
        for i in range(size):
            if (words[i],) not in prefixes:
                continue
            best: dict[str, tuple[int, list[Entry]]] = {}
            n = 1
            while i + n <= size:
                key = tuple(words[i:i + n])
                if key not in prefixes:
                    break
                found = phrases.get(key)
                if found:
                    for ns, entries in found.items():
                        best[ns] = (n, entries)
                n += 1
            for ns, (length, entries) in best.items():
                if consumed.get(ns, 0) > i:
                    continue
                consumed[ns] = i + length
                start, end = syls[i][1], syls[i + length - 1][2]
                for e in entries:
                    hits.append(Hit(ns, e.key, e.weight, source[start:end], field_name, start, end))
        return hits


@dataclass(frozen=True)
class Signal:
    """A misinformation-risk signal from risk.toml."""

    code: str
    label: str
    weight: float
    decrease: bool


@dataclass(frozen=True)
class SourceKind:
    """How far a kind of outlet is trusted."""

    label: str
    official: bool
    risk: float


@dataclass
class Lexicons:
    """All lexicons, loaded once; `digest` identifies their content (recorded in the model sidecar)."""

    index: PhraseIndex
    theme_names: dict[int, str]
    signals: dict[str, Signal]
    sources: dict[str, SourceKind]
    reach: dict[str, float]
    explicit: dict[str, list[str]]
    digest: str
    directory: Path = field(default=DEFAULT_DIR)

    @classmethod
    def load(cls, directory: Path | None = None) -> Lexicons:
        """Read every lexicon file; a bad file raises LexiconError naming it."""
        data: dict[str, dict[str, Any]] = {}
        digest = hashlib.sha256()
        for name in ("education", "themes", "policy_markers", "risk", "sources", "explicit"):
            path = lexicon_file(f"{name}.toml", directory)
            try:
                raw = path.read_bytes()
                data[name] = tomllib.loads(nfc(raw.decode("utf-8")))
            except FileNotFoundError:
                raise LexiconError(f"{path}: lexicon file missing") from None
            except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
                raise LexiconError(f"{path}: not valid TOML ({exc}); fix the line it names") from None
            digest.update(raw)
            unused = unknown_keys(name, data[name])
            if unused:
                raise LexiconError(f"{path}: khóa không dùng / unknown key(s) {', '.join(unused)}: remove or rename them")
        try:
            return cls._build(data, digest.hexdigest()[:16], directory or default_dir())
        except (KeyError, TypeError, ValueError) as exc:
            raise LexiconError(f"{directory or default_dir()}: a lexicon entry is malformed ({exc!r})") from None

    @classmethod
    def _build(cls, data: dict[str, dict[str, Any]], digest: str, directory: Path) -> Lexicons:
        index = PhraseIndex()
        for group in data["education"]["group"]:
            for term in group["terms"]:
                index.add(term, Entry("education", str(group["name"]), float(group["weight"])))
        theme_names: dict[int, str] = {}
        for theme in data["themes"]["theme"]:
            n = int(theme["number"])
            theme_names[n] = str(theme["name"])
            for term in theme.get("chinh_sach", []):
                index.add(term, Entry("themes", f"{n}:policy", THEME_POLICY_WEIGHT))
            for term in theme.get("chu_de", []):
                index.add(term, Entry("themes", f"{n}:topic", THEME_TOPIC_WEIGHT))
        for term in data["themes"].get("loai_tru", []):
            index.add(term, Entry("themes", EXCLUDED_KEY, 0.0))
        for toml_key, (namespace, key, weight) in POLICY_MARKER_LISTS.items():
            for term in data["policy_markers"].get(toml_key, []):
                index.add(term, Entry(namespace, key, weight))
        signals: dict[str, Signal] = {}
        for sig in data["risk"]["signal"]:
            s = Signal(str(sig["code"]), str(sig["label"]), float(sig["weight"]), bool(sig.get("decrease", False)))
            signals[s.code] = s
            for term in sig["terms"]:
                index.add(term, Entry(f"risk.{s.code}", s.code, s.weight))
        sources = {
            k: SourceKind(str(v["label"]), bool(v["official"]), float(v["risk"]))
            for k, v in data["sources"]["kind"].items()
        }
        reach = {k: float(v) for k, v in data["sources"]["reach"].items()}
        explicit = {k: [nfc(str(x)).lower() for x in v] for k, v in data["explicit"].items()}
        return cls(index, theme_names, signals, sources, reach, explicit, digest, directory)

    def find(self, doc: Doc) -> list[Hit]:
        """Every lexicon hit in the document's fields."""
        hits: list[Hit] = []
        for name in FIELDS:
            value = doc.field_text(name)
            if value:
                hits.extend(h for h in self.index.find(syllables(value), name, value) if h.key != EXCLUDED_KEY)
        return hits

