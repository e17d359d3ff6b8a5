"""The one mapping from errors a user can cause to a one-line message and an exit code; never a traceback.

Every room's user-caused exceptions are listed here (light modules only: nothing heavy at start-up).
"""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, InterfaceError, OperationalError

from classify.errors import BatchInputError, DataMissingError, LexiconError, ModelError, TrainingDataError
from cli.base import App
from crawler.errors_light import CrawlError
from report.weeks import PeriodError
from review.keys import SecretKeyError
from settings import SettingsError
from store.classifications import ClaimError
from store.db import DatabaseUnavailable, StoreError
from store.queue import ReviewError
from store.sources import SourcesError

# A database that is down, missing or refuses us: exit code 1, the database named (password masked).
DATABASE_ERRORS: tuple[type[BaseException], ...] = (OperationalError, InterfaceError, DatabaseUnavailable)
# Mistakes in what the user gave (settings, files, options, forms): exit code 2, what to fix.
USER_ERRORS: tuple[type[BaseException], ...] = (
    SettingsError, SourcesError, StoreError,  # settings and the sources file
    CrawlError,  # crawler/
    BatchInputError, DataMissingError, LexiconError, ModelError, TrainingDataError, ClaimError,  # classify/
    ReviewError, SecretKeyError,  # review/
    PeriodError,  # report/
)


def database_problem(app: App | None, exc: BaseException) -> str:
    """One line: which database (password masked) and what the driver said went wrong."""
    url = app.settings.database_url if app else "?"
    try:
        shown = make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        shown = "?"
    cause = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = [line.strip() for line in str(cause).splitlines() if line.strip()]
    reason = lines[0] if lines else type(cause).__name__
    return f"Lỗi / error: không dùng được cơ sở dữ liệu / cannot use the database {shown}: {reason[:300]}"


def user_problem(exc: BaseException) -> list[str]:
    """The message of a user-caused error: one line, or a header and one line per problem (a file's checks)."""
    problems = getattr(exc, "problems", None)
    if not problems:
        return [f"Lỗi / error: {exc}"]
    where = getattr(exc, "path", "")
    return [f"Lỗi / error: {where}: {len(problems)} problem(s), nothing was written:", *(f"  - {p}" for p in problems)]


class Group(click.Group):
    """A click group that turns user-caused errors into their message and exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except DATABASE_ERRORS as exc:
            click.echo(database_problem(ctx.find_object(App), exc), err=True)
            ctx.exit(1)
        except USER_ERRORS as exc:
            for line in user_problem(exc):
                click.echo(line, err=True)
            ctx.exit(2)
