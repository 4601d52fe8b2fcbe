"""HTTP/2 migrations as Django middleware: 426 Upgrade Required, announced in advance.

Under ASGI, Django keeps the ASGI scope on the request (``request.scope``);
its ``http_version`` is "1.0", "1.1" or "2".
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.http import http_date


class ProtocolMigrationMiddleware:
    """Enforces settings.HTTP2_MIGRATIONS: 426 after the sunset, Deprecation/Sunset before."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        http_version = request.scope["http_version"]
        migration = next(
            (
                m
                for prefix, m in settings.HTTP2_MIGRATIONS.items()
                if request.path.startswith(prefix)
            ),
            None,
        )
        if migration is None or (http_version == "2" and request.is_secure()):
            return self.get_response(request)
        sunset = migration["sunset"]
        if sunset is not None and datetime.now(UTC) < sunset:
            # Still served, saying that it is going away and when.
            response = self.get_response(request)
            response["Deprecation"] = f"@{int(migration['deprecated'].timestamp())}"
            response["Sunset"] = http_date(sunset.timestamp())
            response["Link"] = f'<{migration["guide"]}>; rel="sunset"'
            return response
        return self.upgrade_required(request, http_version, migration)

    @staticmethod
    def upgrade_required(request: HttpRequest, http_version: str, migration: dict) -> HttpResponse:
        problem = {
            "type": "https://orders.example/problems/upgrade-required",
            "title": "Upgrade Required",
            "status": 426,
            "detail": f"{request.method} {request.path} requires HTTP/2 over TLS.",
        }
        if migration.get("guide"):
            problem["migration_guide"] = migration["guide"]
        response = JsonResponse(problem, status=426, content_type="application/problem+json")
        response["Cache-Control"] = "no-store"
        if http_version.startswith("1"):
            # Upgrade and Connection are HTTP/1.x fields: HTTP/2 forbids them (RFC 9113 §8.2.2).
            response["Upgrade"] = "HTTP/2.0"
            response["Connection"] = "upgrade"
        return response
