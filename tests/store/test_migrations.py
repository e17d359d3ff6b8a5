"""Migrations: empty database to head and back to base, and the models match the head (no pending autogenerate diff)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect

from store.db import alembic_config, current_revisions, ensure_schema, head_revisions, include_name, make_engine, upgrade
from store.models import Base


def test_upgrade_from_empty_creates_every_table(migrated_engine: Engine) -> None:
    tables = set(inspect(migrated_engine).get_table_names())
    assert set(Base.metadata.tables) <= tables
    assert current_revisions(migrated_engine) == head_revisions(migrated_engine)


def test_models_match_head(migrated_engine: Engine) -> None:
    with migrated_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], f"models differ from the migrations; add a migration: {diff}"


def test_upgrade_is_idempotent(migrated_engine: Engine) -> None:
    upgrade(migrated_engine)
    assert current_revisions(migrated_engine) == head_revisions(migrated_engine)


def test_empty_sqlite_is_upgraded_automatically(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'sub' / 'fresh.db'}")
    assert ensure_schema(engine) is True
    assert ensure_schema(engine) is False
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_downgrade_to_base_and_up_again(empty_engine: Engine) -> None:
    from alembic import command

    upgrade(empty_engine)
    command.downgrade(alembic_config(empty_engine), "base")
    assert current_revisions(empty_engine) == set()
    left = set(inspect(empty_engine).get_table_names()) - {"alembic_version"}
    assert left == set(), f"downgrade to base left tables behind: {sorted(left)}"
    upgrade(empty_engine)
    assert current_revisions(empty_engine) == head_revisions(empty_engine)
    assert set(Base.metadata.tables) <= set(inspect(empty_engine).get_table_names())
    with empty_engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": include_name})
        assert compare_metadata(ctx, Base.metadata) == []
