"""Batch interface: ITEMS.jsonl -> SCORED.jsonl; bad lines are reported with their number and skipped."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from classify.api import Classifier, ItemIn
from classify.errors import BatchInputError
from classify.stories import StoryItem, cluster_stories, story_text
from classify.text import clean

FIELDS = ("title", "summary", "text", "url", "outlet")
BATCH = 64


@dataclass
class BadLine:
    """A line that could not be scored, and why."""

    line: int
    reason: str


@dataclass
class BatchReport:
    """What a batch run did."""

    scored: int = 0
    bad: list[BadLine] = field(default_factory=list)


@dataclass
class _Row:
    line: int
    id: Any
    item: ItemIn


def _parse(no: int, line: str) -> _Row:
    row = json.loads(line)
    if not isinstance(row, dict):
        raise ValueError("not a JSON object")
    try:
        json.dumps(row, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:  # "\ud800" escapes decode to text no file, database or tokenizer accepts
        raise ValueError("text holds a lone surrogate escape (\\ud800-\\udfff): not valid Unicode") from None
    for key in FIELDS:
        value = row.get(key)
        if value is not None and not isinstance(value, str):
            raise ValueError(f"field {key!r} must be a string")
    published = row.get("published_at") or row.get("published")
    when = None
    if isinstance(published, str) and published:
        try:
            when = datetime.fromisoformat(published)
            when = when if when.tzinfo else None  # a naive date cannot be placed in time: ignore it
        except ValueError:
            when = None
    item = ItemIn(
        title=row.get("title") or "", summary=row.get("summary") or "", text=row.get("text") or "",
        url=row.get("url") or "", outlet=row.get("outlet") or "",
        outlet_kind=row.get("outlet_kind") if isinstance(row.get("outlet_kind"), str) else None,
        outlet_tier=row.get("outlet_tier") if isinstance(row.get("outlet_tier"), str) else None,
        engagement=row.get("engagement") if isinstance(row.get("engagement"), dict) else None,
        published_at=when,
    )
    return _Row(no, row.get("id", no), item)


def _decode(no: int, raw: bytes) -> str:
    """One line as text: strict UTF-8 (a BOM on line 1 is allowed); the error names the byte and column."""
    if no == 1 and raw.startswith(b"\xef\xbb\xbf"):
        raw = raw[3:]  # Notepad and Excel write a BOM: it is not part of the first item
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"not UTF-8 (byte 0x{raw[exc.start]:02x} at column {exc.start + 1}); save the file as UTF-8") from None


def _parse_line(no: int, raw: bytes) -> _Row:
    """A line parsed into an item; ValueError says why it cannot be."""
    line = _decode(no, raw)
    try:
        row = _parse(no, line)
    except RecursionError:  # a line of 100,000 nested brackets is hostile, not an item
        raise ValueError("JSON nested too deeply") from None
    return row


def read_items(path: Path, bad: list[BadLine]) -> Iterator[_Row]:
    """Parsed lines; a line that is not UTF-8 or not an item is appended to `bad` with its number, the others go on."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise BatchInputError(f"{path}: cannot read the input file ({exc.strerror})") from None
    with fh:
        for no, raw in enumerate(fh, 1):
            if not raw.strip():
                continue
            try:
                yield _parse_line(no, raw)
            except (ValueError, TypeError) as exc:
                bad.append(BadLine(no, f"{exc}"[:200]))


def count_lines(path: Path) -> int:
    """Non-empty lines (for the progress bar)."""
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            return sum(1 for line in fh if line.strip())
    except OSError as exc:
        raise BatchInputError(f"{path}: cannot read the input file ({exc.strerror})") from None


def score_file(
    clf: Classifier, in_path: Path, out_path: Path, progress: Callable[[int], None] | None = None
) -> BatchReport:
    """Score every good line and write one JSON line each (same order); the output appears only when complete."""
    report = BatchReport()
    rows: list[_Row] = []
    results: list[dict[str, Any]] = []
    pending: list[_Row] = []

    def flush() -> None:
        for row, res in zip(pending, clf.score_many([r.item for r in pending])):
            rows.append(row)
            results.append(res.to_dict())
        if progress:
            progress(len(pending))
        pending.clear()

    for row in read_items(in_path, report.bad):
        pending.append(row)
        if len(pending) >= BATCH:
            flush()
    if pending:
        flush()
    if progress and report.bad:
        progress(len(report.bad))
    clusters = batch_clusters(rows)
    tmp = out_path.with_name(out_path.name + ".part")
    out_path.parent.mkdir(parents=True, exist_ok=True)
    with tmp.open("w", encoding="utf-8") as out:
        for row, res in zip(rows, results):
            line = {
                "id": row.id,
                "is_education": res["is_education"],
                "education_score": res["education_score"],
                "relevance": res["relevance"],
                "relevance_score": res["relevance_score"],
                "themes": res["themes"],
                "risk_score": res["risk_score"],
                "reasons": res["reasons"],
                "claim_matches": res["claim_matches"],
                "cluster": clusters[row.line],
                "evidence": res["evidence"],
                "model_version": res["model_version"],
            }
            out.write(json.dumps(line, ensure_ascii=False) + "\n")
    os.replace(tmp, out_path)
    report.scored = len(rows)
    return report


def batch_clusters(rows: list[_Row]) -> dict[int, Any]:
    """Story cluster per line: the id of the story's first item (copies via MinHash, then TF-IDF stories)."""
    from classify.near_dup import NearDupIndex, long_enough

    index = NearDupIndex()
    copy_of: dict[int, int] = {}
    for r in rows:
        text = story_text(r.item.title, r.item.summary, r.item.text) + " " + r.item.text
        if long_enough(text):
            m = index.match(text)
            if m is not None:
                copy_of[r.line] = m.copy_of_id
            else:
                index.add(r.line, text)
    items = [StoryItem(r.line, story_text(r.item.title, r.item.summary, r.item.text), r.item.published_at,
                       copy_of.get(r.line), clean(r.item.title)) for r in rows]
    mapping = cluster_stories(items)
    ids = {r.line: r.id for r in rows}
    return {int(line): ids[int(first)] for line, first in mapping.items()}
