import pytest
from app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app
