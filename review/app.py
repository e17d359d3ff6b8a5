"""The reviewers' web app: ``create_app(settings)`` builds it on the configured database."""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event

import jobs
from report.cells import vn_number
from report.weeks import local_text, tz_caption
from review import core, present
from review.keys import session_key
from settings import Settings
from store.db import make_engine, make_session_factory
from store.queue import ReviewError

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
HSTS = "max-age=31536000; includeSubDomains"

SECURITY_HEADERS = {
    # no external CDN, no inline scripts: everything the page needs comes from this server
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


class CookieSessionMiddleware:
    """Loads the cookie session before a request and writes it back with the security headers.

    A plain ASGI middleware: Starlette's BaseHTTPMiddleware (``@app.middleware("http")``) runs every
    response through an extra task and stream, a measurable share of a queue page's CPU under load."""

    def __init__(self, app: ASGIApp, secure: bool) -> None:
        self.app = app
        self.secure = secure

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        core.load_cookie(request)
        path: str = scope["path"]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                cookie = Response()
                core.save_cookie(request, cookie)
                for name, raw in cookie.raw_headers:
                    if name == b"set-cookie":
                        headers.append("set-cookie", raw.decode("latin-1"))
                for key, value in SECURITY_HEADERS.items():
                    headers.setdefault(key, value)
                if self.secure:  # served over https: browsers must never fall back to http
                    headers.setdefault("Strict-Transport-Security", HSTS)
                if path != "/static" and not path.startswith("/static/"):
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _local(tz: ZoneInfo) -> Callable[[datetime | None], str]:
    def fmt(value: datetime | None) -> str:
        # SQLite hands stored UTC instants back without a zone: naive means UTC, never the server's clock
        return local_text(value, tz.key) or "—"

    return fmt


HTTP_WORDS = {
    404: "Không có trang này: kiểm tra lại địa chỉ. / Not Found",
    405: "Trang này không nhận thao tác {method}. / Method Not Allowed",
}


def http_error_words(code: int, method: str, detail: str) -> str:
    """A Starlette HTTP error in Vietnamese for a person (English after the slash for the technical reader)."""
    words = HTTP_WORDS.get(code)
    if words:
        return words.format(method=method)
    return f"Yêu cầu không thực hiện được (mã {code}). / {detail}"


def _sqlite_read_pragmas(dbapi_connection: Any, _record: Any) -> None:
    """Queue filters probe article and classification rows by id: a memory map and a bigger page cache
    keep those probes off the read() path (256 MB is address space, not resident memory)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA mmap_size=268435456")
    cursor.execute("PRAGMA cache_size=-65536")
    cursor.close()


def preload(app: FastAPI) -> float:
    """Load the classifier the claim recheck needs now, not on a reviewer's first claim (2.6 s → 0.6 s); seconds taken."""
    started = time.perf_counter()
    try:
        app_state: core.AppState = app.state.nq71
        with app_state.sessions() as session:
            jobs.cached_classifier(session, app_state.settings)
    except Exception:  # no model yet (a fresh install): the app still serves; the recheck says what is missing
        log.warning("classifier not preloaded; the first claim recheck will load it", exc_info=True)
    return time.perf_counter() - started


def create_app(settings: Settings, warm: bool = False) -> FastAPI:
    """The FastAPI app: HTML pages, the JSON API under /api/ (OpenAPI at /api/openapi.json), static files.

    ``warm`` loads the classifier before the first request (the server does; most tests need not)."""
    key = session_key(settings.secret_key, settings.data_dir)
    # one connection per request thread kept open: with SQLAlchemy's default (5 + 10 overflow) 20 reviewers
    # at once made PostgreSQL start and end a backend process for most requests
    engine = make_engine(settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_pool_size)
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_read_pragmas)
    app = FastAPI(
        title="nq71-monitor: hàng đợi thẩm định",
        version="0.1.0",
        openapi_url=None,  # served below, behind login: the API's map is not for strangers
        docs_url=None,  # Swagger UI loads from a CDN; the JSON document is enough offline
        redoc_url=None,
    )
    app.state.nq71 = core.AppState(
        settings=settings,
        sessions=make_session_factory(engine),
        serializer=URLSafeTimedSerializer(key, salt="nq71-session"),
        tz=ZoneInfo(settings.timezone),
        counts=core.CountCache(settings.queue_count_seconds),
        reach=jobs.reach_by_tier(),
    )
    app.state.engine = engine
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.filters["local"] = _local(ZoneInfo(settings.timezone))
    templates.env.filters["num"] = vn_number
    templates.env.filters["event_note"] = present.event_note
    templates.env.globals["clock"] = tz_caption(settings.timezone)
    templates.env.filters["pct"] = lambda v: "—" if v is None else f"{float(v) * 100:.0f}%"
    app.state.templates = templates
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    app.add_middleware(CookieSessionMiddleware, secure=settings.cookie_secure)

    def is_api(request: Request) -> bool:
        return request.url.path.startswith("/api/")

    @app.exception_handler(core.LoginRequired)
    async def login_required(request: Request, exc: core.LoginRequired) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "Chưa đăng nhập."}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if request.method != "GET":
            target = "/queue"
        return RedirectResponse(f"/login?next={quote(target)}", status_code=303)

    def error_page(request: Request, message: str, code: int, headers: Mapping[str, str] | None = None) -> Response:
        with core.state(request).sessions() as session:
            user = core.current_user(request, session)
            from review.web import render

            page = render(request, "error.html", {"user": user, "message": message, "code": code}, code)
        page.headers.update(headers or {})
        return page

    @app.exception_handler(ReviewError)
    async def review_error(request: Request, exc: ReviewError) -> Response:
        if is_api(request):
            return JSONResponse({"detail": str(exc)}, status_code=exc.status_code)
        return error_page(request, str(exc), exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        """Unknown pages and wrong methods: JSON under /api/, a Vietnamese page for a person everywhere else."""
        if exc.status_code in (204, 304):  # no body allowed
            return Response(status_code=exc.status_code, headers=exc.headers)
        if is_api(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return error_page(request, http_error_words(exc.status_code, request.method, str(exc.detail)), exc.status_code, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(f"{'.'.join(str(p) for p in e.get('loc', [])[1:])}: {e.get('msg')}" for e in exc.errors())
        return JSONResponse({"detail": f"Dữ liệu không hợp lệ: {problems}"}, status_code=422)

    from review import api, dashboard, web

    app.include_router(web.router)
    app.include_router(dashboard.router)
    app.include_router(api.router)

    @app.get("/api/openapi.json", include_in_schema=False)
    def openapi_document(request: Request) -> JSONResponse:
        with core.state(request).sessions() as session:
            core.need_user(request, session)
        return JSONResponse(app.openapi())

    if warm:
        log.info("classifier preloaded in %.1f s", preload(app))
    return app


def app_from_environment() -> FastAPI:
    """The app built from NQ71_* variables: the factory each `nq71 serve --workers N` process calls."""
    from settings import load_settings

    return create_app(load_settings(), warm=True)
