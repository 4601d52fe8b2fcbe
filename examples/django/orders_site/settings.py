"""Settings of the example Django project: the least a Django service needs."""

from datetime import UTC, datetime

SECRET_KEY = "example-only-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
ROOT_URLCONF = "orders_site.urls"
INSTALLED_APPS = ["orders"]
MIDDLEWARE = [
    "orders.middleware.ProtocolMigrationMiddleware",
    "django.middleware.common.CommonMiddleware",
]
USE_TZ = True

# The protocol migrations the middleware enforces, by path prefix: HTTP/2 over
# TLS is required from "sunset" on; between "deprecated" and "sunset" HTTP/1.1
# is still served, announced with Deprecation (RFC 9745) and Sunset (RFC 8594).
HTTP2_MIGRATIONS = {
    "/v2/": {"deprecated": None, "sunset": None},  # HTTP/2 only, from the start
    "/v0/": {  # retired: HTTP/1.1 ended on 2026-01-01
        "deprecated": datetime(2025, 1, 1, tzinfo=UTC),
        "sunset": datetime(2026, 1, 1, tzinfo=UTC),
        "guide": "https://orders.example/docs/http2-migration",
    },
    "/v1/": {
        "deprecated": datetime(2026, 6, 1, tzinfo=UTC),
        "sunset": datetime(2030, 1, 1, tzinfo=UTC),
        "guide": "https://orders.example/docs/http2-migration",
    },
}
