"""What reviewers read and type: labels in Vietnamese, evidence highlights, and the parsing of forms and filters."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from classify.api import risk_note
from report.export import VERDICT_LABELS
from store.feeds import SUCCESS
from store.models import (
    Article, Classification, Feed, FeedKind, FetchStatus, Outlet, Relevance, ReviewStatus, Role, User, Verdict,
)
from store.queue import (
    CORRECTION_ACTION, MAX_ROW_ID, RISK_BANDS, AuditRow, ItemRecord, QueueFilter, ReviewError, audit_rows,
)

# --- words the reviewers use ------------------------------------------------------------------
ROLE_LABELS: dict[Role, str] = {Role.reviewer: "Thẩm định viên", Role.supervisor: "Giám sát", Role.admin: "Quản trị"}
ACTION_LABELS: dict[str, str] = {
    "created": "Đưa vào hàng đợi",
    "take": "Nhận xử lý",
    "assign": "Giao việc",
    "escalate": "Chuyển Sở GD&ĐT",
    "verdict": "Kết luận",
    "reopen": "Mở lại",
    "add_claim": "Thêm vào kho tin sai",
    "note": "Ghi chú",
    CORRECTION_ACTION: "Sửa nhãn phân loại",
}
RISK_LABELS: dict[str, str] = {"low": "Thấp", "medium": "Trung bình", "high": "Cao"}
RELEVANCE_LABELS = {
    Relevance.explicit: "Nêu trực tiếp Nghị quyết 71",
    Relevance.task: "Thuộc nhiệm vụ của Nghị quyết 71",
    Relevance.none: "Không liên quan Nghị quyết 71",
}
FETCH_STATUS_LABELS: dict[FetchStatus, str] = {
    FetchStatus.ok: "Hoạt động tốt",
    FetchStatus.not_modified: "Không có gì mới",
    FetchStatus.same_hash: "Không có gì mới",
    FetchStatus.http_error: "Lỗi HTTP",
    FetchStatus.timeout: "Quá thời gian chờ",
    FetchStatus.dns_error: "Không tìm thấy tên miền",
    FetchStatus.tls_error: "Lỗi chứng chỉ bảo mật",
    FetchStatus.connection_error: "Không kết nối được",
    FetchStatus.not_a_feed: "Không phải nguồn cấp tin",
    FetchStatus.empty: "Trả về rỗng",
    FetchStatus.parse_error: "Không đọc được nội dung",
    FetchStatus.too_large: "Dữ liệu quá lớn",
    FetchStatus.robots_denied: "Trang cấm thu thập (robots.txt)",
    FetchStatus.bad_link: "Liên kết bị từ chối",
    FetchStatus.never: "Chưa thu thập",
}
FEED_KIND_LABELS: dict[FeedKind, str] = {
    FeedKind.rss: "RSS", FeedKind.atom: "Atom", FeedKind.jsonfeed: "JSON Feed", FeedKind.sitemap: "Sơ đồ trang",
    FeedKind.listing: "Trang danh sách", FeedKind.social: "Mạng xã hội",
}
# the crawler's success notes ("rss20: 9 items, 2 skipped"): what was read, how many entries
_COUNT_NOTE = re.compile(r"^(?P<what>.+?): (?P<n>\d+) (?P<unit>items|links|recent urls|recent sitemaps)(?P<rest>.*)$")
_UNITS = {"items": "tin", "links": "liên kết", "recent urls": "địa chỉ mới", "recent sitemaps": "sơ đồ trang mới"}
_FORMATS = {"rss20": "RSS 2.0", "rss10": "RSS 1.0", "rss092": "RSS 0.92", "rss091u": "RSS 0.91", "rss091n": "RSS 0.91",
            "atom10": "Atom 1.0", "atom03": "Atom 0.3", "listing": "Trang danh sách", "sitemap": "Sơ đồ trang",
            "sitemap index": "Mục lục sơ đồ trang"}
_SKIPPED = re.compile(r", (\d+) skipped")
_OLDER = re.compile(r" \((\d+) older than (\d+) days skipped\)")
# the note older crawls wrote on an item's "created" event: "risk 0.84: learned, unsourced_policy"
_RISK_NOTE = re.compile(r"^risk (?P<risk>[01](?:\.\d+)?): ?(?P<codes>[a-z_, ]*)$")
_REFUSED = " | bad_link: "


def fetch_status_label(feed: Feed) -> str:
    """The feed's state in a word: paused, or how its last fetch ended."""
    return "Tạm dừng" if feed.paused else FETCH_STATUS_LABELS.get(feed.status, str(feed.status))


def feed_problem(feed: Feed) -> str | None:
    """The feed's last real error: a failed fetch's message, or links refused on a good one; None when all is well."""
    message = feed.status_message or ""
    if feed.status not in SUCCESS:
        return message or None
    refused = message.partition(_REFUSED)[2]
    return f"bad_link: {refused}" if refused else None


def feed_note(feed: Feed) -> str | None:
    """What a good fetch read ("RSS 2.0: 9 tin"), in Vietnamese; None after a failure (that is a problem, not a note)."""
    if feed.status not in SUCCESS or not feed.status_message:
        return None
    return crawl_note(feed.status_message.partition(_REFUSED)[0])


def crawl_note(message: str) -> str:
    """A crawler success note in Vietnamese; a message of another shape is shown as written."""
    m = _COUNT_NOTE.match(message)
    if not m:
        return message
    what = _FORMATS.get(m["what"], m["what"])
    rest = _SKIPPED.sub(lambda s: f", bỏ qua {s.group(1)}", m["rest"])
    rest = _OLDER.sub(lambda s: f" (bỏ qua {s.group(1)} địa chỉ cũ hơn {s.group(2)} ngày)", rest)
    return f"{what}: {m['n']} {_UNITS[m['unit']]}{rest}"


def event_note(note: str | None) -> str | None:
    """An event's note as a reviewer reads it: the old English risk note becomes Vietnamese; others unchanged."""
    if not note:
        return note
    m = _RISK_NOTE.match(note.strip())
    if not m:
        return note
    return risk_note(float(m["risk"]), [c.strip() for c in m["codes"].split(",") if c.strip()])


# --- parsing what people type -----------------------------------------------------------------
MAX_NOTE = 2000
MAX_CLAIM = 2000
MAX_QUERY = 200
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)  # dates a time zone can shift without overflow


def clean_text(value: str | None, what: str, max_len: int, required: bool = False) -> str | None:
    """NFC-normalise and trim free text; refuse too long, or empty when required."""
    cleaned = unicodedata.normalize("NFC", value or "").strip()
    if "\x00" in cleaned:  # PostgreSQL refuses NUL in text: say so instead of failing on the write
        raise ReviewError(f"{what} chứa ký tự NUL không hợp lệ. / {what}: NUL characters are not allowed.")
    if len(cleaned) > max_len:
        raise ReviewError(f"{what} quá dài ({len(cleaned)} ký tự); tối đa {max_len} ký tự.")
    if not cleaned:
        if required:
            raise ReviewError(f"{what} không được để trống.")
        return None
    return cleaned


def parse_verdict(raw: str | None) -> Verdict:
    """A verdict from a form value, or a clear message listing the choices."""
    try:
        return Verdict((raw or "").strip())
    except ValueError:
        choices = ", ".join(VERDICT_LABELS.values())
        raise ReviewError(f"Hãy chọn một kết luận: {choices}.") from None


def clean_url(raw: str | None) -> str | None:
    """An optional http(s) URL, or a clear message."""
    value = (raw or "").strip()
    if not value:
        return None
    if len(value) > 1000 or not re.match(r"^https?://[^\s/]+\.[^\s]+$", value):
        raise ReviewError("Đường dẫn bài cải chính phải là một URL http(s) đầy đủ, tối đa 1000 ký tự.")
    return value


@dataclass(frozen=True)
class Labels:
    """The labels a reviewer sets: what the article is, in the department's definition."""

    is_education: bool
    relevance: Relevance
    themes: tuple[int, ...]
    note: str | None


def parse_labels(is_education: str | None, relevance: str | None, themes: Iterable[str], note: str | None) -> Labels:
    """Validate a correction from a form or the API; ReviewError says what to fix."""
    if is_education not in ("1", "0", "true", "false"):
        raise ReviewError("Chọn bài có phải tin giáo dục hay không.")
    try:
        rel = Relevance(relevance or "")
    except ValueError:
        raise ReviewError("Chọn mức liên quan Nghị quyết 71: nêu trực tiếp, thuộc nhiệm vụ hoặc không liên quan.") from None
    try:
        groups = tuple(sorted({int(t) for t in themes}))
    except ValueError:
        raise ReviewError("Nhóm nhiệm vụ phải là số từ 1 đến 8.") from None
    if any(not 1 <= g <= 8 for g in groups):
        raise ReviewError("Nhóm nhiệm vụ phải là số từ 1 đến 8.")
    edu = is_education in ("1", "true")
    if rel != Relevance.none and not edu:
        raise ReviewError("Bài liên quan Nghị quyết 71 thì phải là tin giáo dục.")
    if rel == Relevance.none and groups:
        raise ReviewError("Bài không liên quan Nghị quyết 71 thì không có nhóm nhiệm vụ.")
    if rel != Relevance.none and not groups:
        raise ReviewError("Chọn ít nhất một nhóm nhiệm vụ (1-8) cho bài liên quan Nghị quyết 71.")
    return Labels(edu, rel, groups, clean_text(note, "Ghi chú", MAX_NOTE))


def parse_int(raw: str | None, what: str, minimum: int = 1) -> int:
    """A whole number from a form or query value, or a clear message."""
    value = (raw or "").strip()
    if not value.lstrip("-").isdigit() or len(value) > 12:
        raise ReviewError(f"{what} phải là một số nguyên.")
    number = int(value)
    if number < minimum:
        raise ReviewError(f"{what} phải từ {minimum} trở lên.")
    if number > MAX_ROW_ID:
        raise ReviewError(f"{what} quá lớn (tối đa {MAX_ROW_ID}).")
    return number


def parse_date(raw: str, what: str) -> date:
    """A dd/mm/yyyy (or ISO yyyy-mm-dd) date between 1900 and 2999, or a clear message."""
    text = raw.strip()
    try:  # reviewers type the Vietnamese order; links and the API keep ISO
        day = datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else date.fromisoformat(text)
    except ValueError:
        raise ReviewError(f"{what} phải có dạng ngày/tháng/năm, ví dụ 26/11/2026 (hoặc năm-tháng-ngày 2026-11-26)."
                          " / Use dd/mm/yyyy.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ReviewError(f"{what} phải trong khoảng {show_date(FIRST_DAY)} đến {show_date(LAST_DAY)}.")
    return day


def show_date(day: date) -> str:
    """A date as reviewers read and type it: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 of a day in the city's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def parse_filters(
    session: Session, params: Mapping[str, str], user: User, tz: ZoneInfo, default_open: bool = False
) -> tuple[QueueFilter, list[str], dict[str, str]]:
    """Queue filters from query parameters; bad values are dropped with a message each.

    ``status=all`` shows every status; with ``default_open`` no status means the work still to do."""
    f = QueueFilter()
    errors: list[str] = []
    kept: dict[str, str] = {}

    def get(key: str) -> str:
        return (params.get(key) or "").strip()

    def attempt(key: str, apply: Any) -> None:
        raw = get(key)
        if not raw:
            return
        try:
            shown = apply(raw)  # a parser may give back the value as reviewers read it (dates: dd/mm/yyyy)
            kept[key] = shown if isinstance(shown, str) else raw
        except ReviewError as exc:
            errors.append(str(exc))

    def status(raw: str) -> None:
        if raw == "all":
            return
        try:
            f.status = ReviewStatus(raw)
        except ValueError:
            raise ReviewError("Trạng thái không hợp lệ.") from None

    def outlet(raw: str) -> None:
        f.outlet_id = parse_int(raw, "Nguồn tin")
        if session.get(Outlet, f.outlet_id) is None:
            f.outlet_id = None
            raise ReviewError(f"Không có nguồn tin số {raw}.")

    def theme(raw: str) -> None:
        f.theme = parse_int(raw, "Nhóm nhiệm vụ")
        if f.theme > 8:
            f.theme = None
            raise ReviewError("Nhóm nhiệm vụ phải từ 1 đến 8.")

    def risk(raw: str) -> None:
        if raw not in RISK_BANDS:
            raise ReviewError("Mức rủi ro phải là thấp, trung bình hoặc cao.")
        f.risk = raw

    def date_from(raw: str) -> str:
        day = parse_date(raw, "Từ ngày")
        f.published_from = local_midnight(day, tz)
        return show_date(day)

    def date_to(raw: str) -> str:
        day = parse_date(raw, "Đến ngày")
        f.published_to = local_midnight(day + timedelta(days=1), tz)
        return show_date(day)

    def assignee(raw: str) -> None:
        if raw == "none":
            f.unassigned = True
            return
        f.assignee_id = parse_int(raw, "Người xử lý")
        if session.get(User, f.assignee_id) is None:
            f.assignee_id = None
            raise ReviewError(f"Không có người dùng số {raw}.")

    def query(raw: str) -> None:
        if len(raw) > MAX_QUERY:
            raise ReviewError(f"Từ khóa tìm kiếm dài quá {MAX_QUERY} ký tự.")
        f.q = raw

    def page(raw: str) -> None:
        f.page = parse_int(raw, "Trang")

    for key, fn in (("status", status), ("outlet", outlet), ("theme", theme), ("risk", risk), ("from", date_from),
                    ("to", date_to), ("assignee", assignee), ("q", query), ("page", page)):
        attempt(key, fn)
    f.open_only = default_open and f.status is None and kept.get("status") != "all"
    if get("mine") in {"1", "on", "true"}:
        f.assignee_id, f.unassigned = user.id, False
        kept["mine"] = "1"
    if f.published_from and f.published_to and f.published_to <= f.published_from:
        errors.append("Đến ngày phải sau hoặc bằng Từ ngày.")
    return f, errors, kept


# --- one item: evidence marked in its text -----------------------------------------------------
NQ71_KEY = "nq"  # the key of Resolution 71 evidence (a colour of its own, apart from the risk reasons)
NQ71_LABEL = "Bằng chứng liên quan Nghị quyết 71"


FIELDS = ("title", "summary", "text")  # the stored article fields evidence spans point into


@dataclass
class Span:
    """A piece of evidence in one field of the article; ``key`` names its reason ("1", "2" …) or NQ71_KEY."""

    start: int
    end: int
    label: str
    key: str = NQ71_KEY
    field: str = "text"


@dataclass
class Segment:
    """A run of article text, highlighted when it is evidence (``keys``: the reasons it supports)."""

    text: str
    label: str | None = None
    keys: list[str] = field(default_factory=list)


@dataclass
class Reason:
    """One reason the item was flagged, numbered as its marks in the text are."""

    n: int
    code: str
    label: str
    weight: float | None
    raw: dict[str, Any]

    @property
    def tone(self) -> str:
        """CSS class: raises the risk (a colour per number), lowers it, or counts nothing."""
        if self.weight is None or self.weight == 0:
            return "k-info"
        return f"k-r{(self.n - 1) % 5 + 1}" if self.weight > 0 else "k-down"


@dataclass
class ItemDetail(ItemRecord):
    """Everything the item page shows: the stored record, its numbered reasons, each field cut into marked runs."""

    marks: dict[str, list[Segment]] = field(default_factory=dict)  # field name → runs of its stored text
    reasons: list[Reason] = field(default_factory=list)
    own_reopen: bool = False  # the viewer gave the standing verdict less than a day ago

    @property
    def combined(self) -> float:
        """The risk the listed weights combine to (see combined_risk)."""
        return combined_risk(self.reasons)

    @property
    def marked_keys(self) -> set[str]:
        """Reason keys that have at least one mark in the article."""
        return {k for runs in self.marks.values() for seg in runs for k in seg.keys}


def _span_dicts(value: Any) -> Iterator[dict[str, Any]]:
    """Every {text,start,end,field} dict inside a reasons/evidence JSON value, however nested."""
    if isinstance(value, dict):
        if isinstance(value.get("start"), int) and isinstance(value.get("end"), int):
            yield value
        for child in value.values():
            if isinstance(child, (dict, list)):
                yield from _span_dicts(child)
    elif isinstance(value, list):
        for child in value:
            yield from _span_dicts(child)


def numbered_reasons(classification: Classification | None) -> list[Reason]:
    """The stored reasons, strongest risk first, numbered from 1."""
    raw = [r for r in (classification.reasons if classification else []) if isinstance(r, dict)]
    raw.sort(key=lambda r: -float(r["weight"]) if isinstance(r.get("weight"), (int, float)) else 0.0)
    return [
        Reason(i, str(r.get("code") or ""), str(r.get("label") or r.get("code") or ""),
               float(r["weight"]) if isinstance(r.get("weight"), (int, float)) else None, r)
        for i, r in enumerate(raw, 1)
    ]


def combined_risk(reasons: Iterable[Reason]) -> float:
    """How classify.api combines the weights: 1 − Π(1 − w) over raising reasons, times Π(1 − |w|) over lowering ones."""
    up, down = 1.0, 1.0
    for r in reasons:
        if r.weight is not None and r.weight > 0:
            up *= 1.0 - r.weight
        elif r.weight is not None and r.weight < 0:
            down *= 1.0 + r.weight
    return min(1.0, max(0.0, (1.0 - up) * down))


def field_texts(article: Article) -> dict[str, str]:
    """The stored text of each field evidence may point into."""
    return {"title": article.title or "", "summary": article.summary or "", "text": article.text or ""}


def evidence_spans(texts: Mapping[str, str], classification: Classification | None,
                   reasons: list[Reason] | None = None) -> list[Span]:
    """Evidence spans that name a field and whose offsets cover their own words in that field's stored text.

    A span that names no field, or whose offsets land on other words, is left unmarked rather than guessed."""
    if classification is None:
        return []
    found: list[Span] = []
    numbered = reasons if reasons is not None else numbered_reasons(classification)
    sources: list[tuple[str, str, Any]] = [(r.label, str(r.n), r.raw) for r in numbered]
    sources.append((NQ71_LABEL, NQ71_KEY, classification.evidence or {}))
    for label, key, value in sources:
        for span in _span_dicts(value):
            name, start, end = str(span.get("field") or ""), int(span["start"]), int(span["end"])
            body, snippet = texts.get(name, ""), str(span.get("text") or "")
            if name in FIELDS and 0 <= start < end <= len(body) and (not snippet or body[start:end] == snippet):
                found.append(Span(start, end, label, key, name))
    return found


def highlight(body: str, spans: Iterable[Span]) -> list[Segment]:
    """Cut the text into plain and highlighted runs; overlapping spans merge into one highlight with every key."""
    merged: list[tuple[Span, list[str]]] = []
    for span in sorted(spans, key=lambda s: (s.start, s.end)):
        if merged and span.start <= merged[-1][0].end:
            last, keys = merged[-1]
            labels = last.label if span.label in last.label.split("; ") else f"{last.label}; {span.label}"
            merged[-1] = (Span(last.start, max(last.end, span.end), labels, last.key), keys + [k for k in [span.key] if k not in keys])
        else:
            merged.append((span, [span.key]))
    segments: list[Segment] = []
    at = 0
    for span, keys in merged:
        if span.start > at:
            segments.append(Segment(body[at : span.start]))
        segments.append(Segment(body[span.start : span.end], span.label or "Bằng chứng", keys))
        at = span.end
    if at < len(body):
        segments.append(Segment(body[at:]))
    return segments


def item_detail(record: ItemRecord, own_reopen: bool = False) -> ItemDetail:
    """The item page's view of a record: numbered reasons and each field with its evidence marked."""
    reasons = numbered_reasons(record.classification)
    texts = field_texts(record.article)
    spans = evidence_spans(texts, record.classification, reasons)
    marks = {name: highlight(body, [s for s in spans if s.field == name]) for name, body in texts.items()}
    parts = {f.name: getattr(record, f.name) for f in fields(ItemRecord)}
    return ItemDetail(**parts, marks=marks, reasons=reasons, own_reopen=own_reopen)


# --- audit export -----------------------------------------------------------------------------
def audit_columns(clock: str) -> list[str]:
    """The audit CSV's Vietnamese header; `clock` names the time zone of the times ('giờ Việt Nam, UTC+07:00')."""
    return ["Mã sự kiện", f"Thời điểm ({clock})", "Mã mục", "Địa chỉ bài", "Tiêu đề", "Người thực hiện", "Thao tác",
            "Trước", "Sau", "Ghi chú"]


def _json(value: dict[str, Any] | None) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True) if value else ""


def audit_line(row: AuditRow, tz: tzinfo) -> list[str]:
    """One audit CSV line; a label correction's id reads "nhãn-<id>" so it never looks like a review event's."""
    ident = f"nhãn-{row.ident}" if row.correction else str(row.ident)
    return [ident, row.at.astimezone(tz).strftime("%d/%m/%Y %H:%M:%S"), str(row.item_id or ""), row.url, row.title,
            row.username or "", ACTION_LABELS.get(row.action, row.action), _json(row.before), _json(row.after),
            row.note or ""]


def audit_events(session: Session, start: datetime, end: datetime, tz: tzinfo) -> Iterator[list[str]]:
    """Audit lines (review actions and label corrections) in [start, end), oldest first, on the city's clock."""
    return (audit_line(row, tz) for row in audit_rows(session, start, end))
