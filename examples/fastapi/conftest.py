import pytest
from app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app


@pytest.fixture
def anyio_backend():
    # Async tests run on asyncio (anyio's pytest plugin, installed with httpx).
    return "asyncio"
