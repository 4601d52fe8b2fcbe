import pytest
from orders_site.asgi import application


@pytest.fixture(scope="session")
def upgrade_app():
    return application
