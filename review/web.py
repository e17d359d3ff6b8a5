"""Server-rendered Vietnamese pages: login, queue, item and its actions, audit, sources, claims, users."""

from __future__ import annotations

import logging
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

import jobs
from report.cells import csv_text
from report.export import STATUS_LABELS, VERDICT_LABELS
from report.weekly import THEME_LABELS
from report.weeks import PeriodError, day_period, tz_caption
from review import core, present, saved, service
from review.core import check_csrf, db, flash, need_user, state
from review.users import (
    authenticate,
    close_session,
    create_user,
    failure_message,
    open_session,
    parse_role,
    release_address,
    reserve_address,
    set_active,
    set_role,
)
from store import queue as review_queue
from store.corrections import corrections_for
from store.models import Role, User
from store.queries import outlets_with_feeds
from store.snapshots import latest_snapshot, snapshots_of

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)


def render(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render a template with what every page needs (user, CSRF token, labels, flash)."""
    templates = request.app.state.templates
    base = {
        "csrf": core.csrf_token(request),
        "flash": core.pop_flash(request),
        "STATUS_LABELS": STATUS_LABELS,
        "VERDICT_LABELS": VERDICT_LABELS,
        "ROLE_LABELS": present.ROLE_LABELS,
        "ACTION_LABELS": present.ACTION_LABELS,
        "THEME_LABELS": THEME_LABELS,
        "RISK_LABELS": present.RISK_LABELS,
        "Role": Role,
        "has_role": service.has_role,
        "user": None,
    }
    base.update(context)
    response: HTMLResponse = templates.TemplateResponse(request, name, base, status_code=status_code)
    return response


def redirect(url: str) -> RedirectResponse:
    """A 303 redirect (POST → GET)."""
    return RedirectResponse(url, status_code=303)


def _safe_next(raw: str | None) -> str:
    """Only local paths after login (no open redirect)."""
    if raw and raw.startswith("/") and not raw.startswith("//") and "\\" not in raw:
        return raw
    return "/queue"


# --- login, logout ----------------------------------------------------------------------------
@router.get("/login")
def login_form(request: Request, next: str = "/queue", session: Session = Depends(db)) -> Response:
    if core.current_user(request, session) is not None:
        return redirect(_safe_next(next))
    return render(request, "login.html", {"next": _safe_next(next), "username": ""})


def _client_address(request: Request) -> str:
    """The address the login throttle counts (uvicorn resolves trusted proxy headers before us)."""
    return request.client.host if request.client else "unknown"


@router.post("/login")
def login(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    csrf: str = Form(""),
    next: str = Form("/queue"),
    session: Session = Depends(db),
) -> Response:
    check_csrf(request, csrf)
    settings = state(request).settings
    target = _safe_next(next)
    if not username.strip() or not password:
        return render(request, "login.html", {"error": "Nhập tên đăng nhập và mật khẩu.", "username": username[:64], "next": target}, 400)
    failed = failure_message(settings.login_max_failures, settings.login_lockout_minutes)
    if len(username) > 64 or len(password) > 256:
        return render(request, "login.html", {"error": failed, "username": "", "next": target}, 400)
    address = _client_address(request)
    with core.transaction(session):
        allowed = reserve_address(session, address, settings.login_address_max_failures, settings.login_lockout_minutes)
    if not allowed:
        message = (f"Quá nhiều lần đăng nhập sai từ địa chỉ này; thử lại sau {settings.login_lockout_minutes:g} phút. "
                   "/ Too many failed logins from this address.")
        return render(request, "login.html", {"error": message, "username": username[:64], "next": target}, 429)
    with core.transaction(session):
        result = authenticate(session, username, password, settings.login_max_failures, settings.login_lockout_minutes)
        token = None
        if result.user is not None:
            release_address(session, address)
            token = open_session(session, result.user.id, core.SESSION_HOURS)
    if token is None:
        return render(request, "login.html", {"error": result.message, "username": username[:64], "next": target}, 401)
    core.set_session(request, core.new_session_data(token))
    return redirect(target)


@router.post("/logout")
def logout(request: Request, csrf: str = Form(""), session: Session = Depends(db)) -> Response:
    check_csrf(request, csrf)
    token = core.session_data(request).get("sid")
    if isinstance(token, str):
        with core.transaction(session):
            close_session(session, token)
    core.set_session(request, core.new_session_data())
    flash(request, "Đã đăng xuất.")
    return redirect("/login")


@router.get("/")
def home() -> Response:
    return redirect("/queue")


# --- queue ------------------------------------------------------------------------------------
@router.get("/queue")
def queue(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    params = dict(request.query_params)
    f, errors, kept = present.parse_filters(session, params, user, state(request).tz, default_open=True)
    counts = state(request).counts
    try:
        page = review_queue.queue_page(session, f, counts.get(session, f))
    except review_queue.ReviewError as exc:
        errors.append(str(exc))
        f.q = None
        kept.pop("q", None)
        page = review_queue.queue_page(session, f, counts.get(session, f))

    def link(**changes: Any) -> str:
        merged = {**kept, **{k: str(v) for k, v in changes.items() if v is not None}}
        for k, v in changes.items():
            if v is None:
                merged.pop(k, None)
        return "/queue?" + urlencode(merged)

    return render(
        request,
        "queue.html",
        {
            "user": user,
            "page": page,
            "filters": kept,
            "errors": errors,
            "link": link,
            "outlets": review_queue.outlet_choices(session),
            "users": review_queue.list_users(session),
            "reach": state(request).reach,
        },
        400 if errors else 200,
    )


# --- item and actions -------------------------------------------------------------------------
def _item_page(
    request: Request, session: Session, user: User, item_id: int, error: str | None = None,
    form: dict[str, str] | None = None, status_code: int = 200,
) -> HTMLResponse:
    record = review_queue.item_record(session, item_id)
    detail = present.item_detail(record, service.own_recent_verdict(session, record.item, user))
    return render(
        request,
        "item.html",
        {"user": user, "d": detail, "error": error, "form": form or {}, "tz": state(request).tz,
         "saved": latest_snapshot(session, detail.article.id)},
        status_code,
    )


def _path_id(raw: str, what: str, missing: str) -> int:
    """An id from the URL path; anything that is not one is a 404 naming what was asked for."""
    try:
        return present.parse_int(raw, what)
    except review_queue.ReviewError:
        raise review_queue.NotFound(f"{missing} {raw[:20]!r}.") from None


def _parse_item_id(raw: str) -> int:
    return _path_id(raw, "Mã mục", "Không có mục thẩm định")


@router.get("/items/{item_id}")
def item_page(item_id: str, request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    return _item_page(request, session, user, _parse_item_id(item_id))


ACTIONS = {"take", "assign", "escalate", "verdict", "reopen", "claim", "note"}
DONE = {
    "take": "Bạn đã nhận xử lý mục này.",
    "assign": "Đã giao việc.",
    "escalate": "Đã chuyển Sở GD&ĐT.",
    "verdict": "Đã lưu kết luận.",
    "reopen": "Đã mở lại mục.",
    "note": "Đã lưu ghi chú.",
}


def run_action(session: Session, user: User, item_id: int, action: str, fields: dict[str, str]) -> Any:
    """Do one action on an item; ReviewError carries the message when it cannot be done."""
    if action == "note":  # a note changes nothing on the item: no version to check
        return service.add_note(session, item_id, user, fields.get("note"))
    version = present.parse_int(fields.get("version"), "Phiên bản", minimum=1) if fields.get("version") else None
    if version is None:
        raise review_queue.ReviewError("Thiếu phiên bản của mục (tải lại trang rồi thử lại).")
    if action == "take":
        return service.take(session, item_id, user, version)
    if action == "assign":
        service.require_role(user, Role.supervisor)
        return service.assign(session, item_id, user, present.parse_int(fields.get("assignee_id"), "Người được giao"), version)
    if action == "escalate":
        return service.escalate(session, item_id, user, fields.get("note"), version)
    if action == "verdict":
        return service.give_verdict(session, item_id, user, present.parse_verdict(fields.get("verdict")), fields.get("note"), version)
    if action == "reopen":
        return service.reopen(session, item_id, user, fields.get("note"), version)
    if action == "claim":
        return service.claim_from_item(session, item_id, user, fields.get("text"), fields.get("refutation_url"), version)
    raise review_queue.NotFound(f"Không có thao tác {action!r}.")


def recheck_claim(request: Request, claim_id: int) -> str:
    """Match the new claim against stored articles (classify room's jobs module); never loses the claim."""
    settings = state(request).settings
    try:
        with state(request).sessions() as session, session.begin():
            classifier = jobs.cached_classifier(session, settings)  # loaded at app start (review.app.preload)
            found = jobs.recheck_claim(session, classifier, claim_id, settings)
    except Exception:  # the claim is stored; a failed recheck must not look like a failed action
        log.exception("recheck of claim %s failed", claim_id)
        return "Đối chiếu lại các bài cũ gặp lỗi; quản trị viên xem nhật ký máy chủ."
    return f"Đã đối chiếu lại: {found} bài khớp."


@router.post("/items/{item_id}/{action}")
async def item_action(item_id: str, action: str, request: Request) -> Response:
    # the form is read here (async); the database work runs in the thread pool like the sync routes
    form = await request.form()
    fields = {k: v for k, v in form.items() if isinstance(v, str)}
    return await run_in_threadpool(_item_action_sync, request, item_id, action, fields)


def _item_action_sync(request: Request, raw_id: str, action: str, fields: dict[str, str]) -> Response:
    with state(request).sessions() as session:
        user = need_user(request, session)
        check_csrf(request, fields.get("csrf"))
        item_id = _parse_item_id(raw_id)
        if action not in ACTIONS:
            raise review_queue.NotFound(f"Không có thao tác {action[:30]!r}.")
        try:
            with core.transaction(session):
                result = run_action(session, user, item_id, action, fields)
                claim_id = result.id if action == "claim" else None
            state(request).counts.clear()
        except review_queue.NotFound:
            raise
        except service.AlreadyDone as done:  # already so: said as information, not as an error
            session.rollback()
            flash(request, str(done))
            return redirect(f"/items/{item_id}")
        except review_queue.ReviewError as exc:
            session.rollback()
            kept = {k: v for k, v in fields.items() if k not in {"csrf", "version"}}
            kept["action"] = action
            return _item_page(request, session, user, item_id, str(exc), kept, exc.status_code)
    if claim_id is not None:
        flash(request, f"Đã thêm vào kho tin sai (#{claim_id}). " + recheck_claim(request, claim_id))
    else:
        flash(request, DONE[action])
    return redirect(f"/items/{item_id}")


# --- Bản lưu: the saved copy, for when the live post is gone (review/saved.py) ---------------------
@router.get("/items/{item_id}/ban-luu")
def saved_copy(item_id: str, request: Request, so: str = "", session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    item = review_queue.get_item(session, _parse_item_id(item_id))
    copies = snapshots_of(session, item.article_id)
    shown = saved.chosen_copy(session, item, so) if so else next(iter(copies), None)
    return render(request, "ban_luu.html", {"user": user, "it": item, "a": item.article, "copies": copies, "s": shown,
                                             "KIND_LABELS": saved.KIND_LABELS})


@router.get("/items/{item_id}/ban-luu/{snapshot_id}/goc")
def saved_copy_raw(item_id: str, snapshot_id: str, request: Request, session: Session = Depends(db)) -> Response:
    need_user(request, session)
    item = review_queue.get_item(session, _parse_item_id(item_id))
    return saved.raw_response(item, saved.chosen_copy(session, item, snapshot_id))


# --- label corrections on any article ---------------------------------------------------------
def _article_page(
    request: Request, session: Session, user: User, article_id: int, error: str | None = None,
    form: dict[str, Any] | None = None, status_code: int = 200,
) -> HTMLResponse:
    article = review_queue.get_article(session, article_id)
    context = {
        "user": user, "a": article, "error": error, "form": form, "RELEVANCE_LABELS": present.RELEVANCE_LABELS,
        "history": corrections_for(session, article_id),
        "item_id": review_queue.item_ids_for_articles(session, [article_id]).get(article_id),
    }
    return render(request, "article.html", context, status_code)


def _parse_article_id(raw: str) -> int:
    return _path_id(raw, "Mã bài", "Không có bài")


@router.get("/articles/{article_id}")
def article_page(article_id: str, request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    return _article_page(request, session, user, _parse_article_id(article_id))


@router.post("/articles/{article_id}/labels")
async def article_labels(article_id: str, request: Request) -> Response:
    form = await request.form()
    fields: dict[str, Any] = {k: v for k, v in form.items() if isinstance(v, str) and k != "themes"}
    fields["themes"] = [v for v in form.getlist("themes") if isinstance(v, str)]
    return await run_in_threadpool(_article_labels_sync, request, article_id, fields)


def _article_labels_sync(request: Request, raw_id: str, fields: dict[str, Any]) -> Response:
    with state(request).sessions() as session:
        user = need_user(request, session)
        check_csrf(request, fields.get("csrf"))
        article_id = _parse_article_id(raw_id)
        try:
            with core.transaction(session):
                given = present.parse_labels(fields.get("is_education"), fields.get("relevance"), fields["themes"],
                                            fields.get("note"))
                service.correct(session, user, article_id, given)
        except review_queue.NotFound:
            raise
        except review_queue.ReviewError as exc:
            session.rollback()
            return _article_page(request, session, user, article_id, str(exc), fields, exc.status_code)
    flash(request, "Đã lưu nhãn; lần huấn luyện lại sau sẽ học từ nhãn này.")
    return redirect(f"/articles/{article_id}")


# --- audit ------------------------------------------------------------------------------------
@router.get("/audit")
def audit(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session, Role.supervisor)
    today = date.today()
    return render(request, "audit.html", {"user": user, "start": present.show_date(today - timedelta(days=30)), "end": present.show_date(today)})


@router.get("/audit.csv")
def audit_csv(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session, Role.supervisor)
    start_raw, end_raw = request.query_params.get("from", ""), request.query_params.get("to", "")
    try:
        start = present.parse_date(start_raw, "Từ ngày")
        end = present.parse_date(end_raw, "Đến ngày")
        period = day_period(start, end, state(request).tz.key)
    except (review_queue.ReviewError, PeriodError) as exc:
        error = "Ngày kết thúc phải sau hoặc bằng ngày bắt đầu." if isinstance(exc, PeriodError) else str(exc)
        return render(request, "audit.html", {"user": user, "error": error, "start": start_raw[:10], "end": end_raw[:10]}, 400)
    tz = state(request).tz
    header = present.audit_columns(tz_caption(tz.key))
    body = csv_text(header, present.audit_events(session, period.start, period.end, tz))  # cells made safe for spreadsheets
    name = f"nhat-ky-tham-dinh_{start.isoformat()}_{end.isoformat()}.csv"
    return Response(body, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


# --- sources ----------------------------------------------------------------------------------
@router.get("/sources")
def sources(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    return render(request, "sources.html", {"user": user, "outlets": outlets_with_feeds(session), "tz": state(request).tz,
                                            "status_label": present.fetch_status_label, "problem": present.feed_problem,
                                            "note": present.feed_note, "kind_labels": present.FEED_KIND_LABELS})


@router.post("/feeds/{feed_id}/{what}")
def feed_pause(
    feed_id: str, what: str, request: Request, csrf: str = Form(""), session: Session = Depends(db)
) -> Response:
    user = need_user(request, session)
    check_csrf(request, csrf)
    service.require_role(user, Role.admin)
    if what not in {"pause", "resume"}:
        raise review_queue.NotFound("Thao tác phải là pause hoặc resume.")
    fid = present.parse_int(feed_id, "Mã nguồn cấp")
    with core.transaction(session):
        feed = service.set_feed_paused(session, fid, user, what == "pause")
        url = feed.url
    flash(request, f"{'Đã tạm dừng' if what == 'pause' else 'Đã chạy lại'} nguồn cấp {url}.")
    return redirect("/sources")


# --- claims -----------------------------------------------------------------------------------
@router.get("/claims")
def claims(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session)
    rows = review_queue.claims_with_matches(session)
    item_of = review_queue.item_ids_for_articles(session, {a.id for r in rows for a, *_ in r.matches} | {r.claim.source_article_id for r in rows if r.claim.source_article_id})
    return render(request, "claims.html", {"user": user, "rows": rows, "item_of": item_of})


# --- users ------------------------------------------------------------------------------------
@router.get("/users")
def users(request: Request, session: Session = Depends(db)) -> Response:
    user = need_user(request, session, Role.admin)
    return render(request, "users.html", {"user": user, "users": review_queue.list_users(session), "form": {}})


@router.post("/users")
def users_add(
    request: Request,
    username: str = Form(""),
    password: str = Form(""),
    role: str = Form(""),
    display_name: str = Form(""),
    csrf: str = Form(""),
    session: Session = Depends(db),
) -> Response:
    user = need_user(request, session, Role.admin)
    check_csrf(request, csrf)
    try:
        with core.transaction(session):
            created = create_user(session, username, password, parse_role(role), display_name or None)
            name = created.username
    except review_queue.ReviewError as exc:
        session.rollback()
        form = {"username": username[:64], "role": role[:20], "display_name": display_name[:200]}
        return render(request, "users.html", {"user": user, "users": review_queue.list_users(session), "error": str(exc), "form": form}, exc.status_code)
    flash(request, f"Đã tạo tài khoản {name}.")
    return redirect("/users")


@router.post("/users/{user_id}/{what}")
def users_change(
    user_id: str, what: str, request: Request, role: str = Form(""), csrf: str = Form(""), session: Session = Depends(db)
) -> Response:
    actor = need_user(request, session, Role.admin)
    check_csrf(request, csrf)
    try:
        uid = present.parse_int(user_id, "Mã người dùng")
        with core.transaction(session):
            if what == "role":
                target = set_role(session, actor, uid, parse_role(role))
                message = f"{target.username}: vai trò mới {present.ROLE_LABELS[target.role]}."
            elif what in {"deactivate", "activate"}:
                target = set_active(session, actor, uid, what == "activate")
                message = f"{target.username}: {'đã kích hoạt lại' if target.active else 'đã vô hiệu hóa'}."
            else:
                raise review_queue.NotFound(f"Không có thao tác {what[:30]!r}.")
    except review_queue.ReviewError as exc:
        session.rollback()
        return render(request, "users.html", {"user": actor, "users": review_queue.list_users(session), "error": str(exc), "form": {}}, exc.status_code)
    flash(request, message)
    return redirect("/users")
