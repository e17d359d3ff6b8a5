"""Review app fixtures: seeded database, app settings, a test client on the real database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from review.app import create_app
from settings import Settings
from tests.review.support import World, seed


@pytest.fixture
def world(sessions: sessionmaker[Session]) -> World:
    return seed(sessions)


@pytest.fixture
def app_settings(settings: Settings) -> Settings:
    return settings.replace(secret_key="test-secret-key-for-review-0123456789", login_max_failures=3, login_lockout_minutes=15.0)


@pytest.fixture
def client(app_settings: Settings, world: World) -> Iterator[TestClient]:
    app = create_app(app_settings)
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c
    app.state.engine.dispose()
