"""The store: models, engine and session factory, query functions, Alembic migrations."""
