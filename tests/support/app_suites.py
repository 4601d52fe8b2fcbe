"""Realistic framework apps for the suites tests/integration/test_app_suites.py writes.

Each is the source of an ``app.py`` a pytester suite serves with the bundled
server: written as a FastAPI, Starlette, Flask, Quart or Django user would,
with the middleware such apps carry (GZip, TrustedHost, CSRF, sessions).
"""

from __future__ import annotations

__all__ = [
    "CONFTEST",
    "DJANGO_APP",
    "FASTAPI_APP",
    "FLASK_APP",
    "QUART_APP",
    "STARLETTE_APP",
    "STARLETTE_LIFESPAN_APP",
    "STARLETTE_WEBSOCKET_APP",
]

CONFTEST = """
import pytest
from app import app


@pytest.fixture(scope="session")
def upgrade_app():
    return app
"""

# /plain serves every protocol; /ws is a correct WebSocket endpoint (a plain
# GET gets 426); /v2/orders requires HTTP/2 and answers gzip when asked;
# /state reads what the db fixture prepared; /login is a session login.
FASTAPI_APP = """
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse

app = FastAPI()
app.state.orders = None


def upgrade_required(request, upgrade, protocol):
    headers = {"Cache-Control": "no-store"}
    if request.scope["http_version"].startswith("1"):
        headers |= {"Upgrade": upgrade, "Connection": "upgrade"}
    problem = {
        "type": "about:blank",
        "title": "Upgrade Required",
        "status": 426,
        "detail": f"{request.url.path} requires {protocol}; this is a long enough detail.",
    }
    return JSONResponse(
        problem, status_code=426, headers=headers, media_type="application/problem+json"
    )


@app.middleware("http")
async def require_http2(request: Request, call_next):
    if request.url.path.startswith("/v2/") and request.scope["http_version"] != "2":
        return upgrade_required(request, "HTTP/2.0", "HTTP/2")
    return await call_next(request)


# Added after the http middleware, so outside it: the 426 is compressed too.
app.add_middleware(GZipMiddleware, minimum_size=10)


@app.get("/plain")
def plain():
    return {"ok": True}


@app.get("/v2/orders")
def orders():
    if app.state.orders is None:
        raise RuntimeError("orders table does not exist")
    return {"orders": app.state.orders}


@app.get("/v2/ping")
def ping():
    return {"ok": True}


@app.post("/login")
def login():
    return {"token": "t"}


@app.get("/ws")
def ws_plain(request: Request):
    return upgrade_required(request, "websocket", "a WebSocket handshake")


@app.websocket("/ws")
async def ws(websocket: WebSocket):
    await websocket.accept()
    try:
        while True:
            await websocket.send_text(await websocket.receive_text())
    except WebSocketDisconnect:
        pass
"""

# Adds Upgrade, Connection and Keep-Alive to every answer, HTTP/2 ones too
# (the mistake RFC 9113 §8.2.2 forbids), and allows only api.example.com.
STARLETTE_APP = """
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route


def upgrade_required(request, protocol):
    problem = {"title": "Upgrade Required", "status": 426, "detail": f"requires {protocol}"}
    return JSONResponse(
        problem,
        status_code=426,
        headers={"Upgrade": "HTTP/2.0", "Connection": "upgrade"},
        media_type="application/problem+json",
    )


async def sloppy(request):
    if request.scope["http_version"] != "2":
        return upgrade_required(request, "HTTP/2")
    fields = {"Upgrade": "HTTP/2.0", "Connection": "upgrade", "Keep-Alive": "timeout=5"}
    return JSONResponse({"ok": True}, headers=fields)


async def clean(request):
    if request.scope["http_version"] != "2":
        return upgrade_required(request, "HTTP/2")
    return JSONResponse({"ok": True})


routes = [Route("/sloppy", sloppy), Route("/clean", clean)]
app = Starlette(routes=routes)
guarded = Starlette(
    routes=routes,
    middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=["api.example.com"])],
)
"""

# A Starlette app whose lifespan fails, and one that starts too slowly.
STARLETTE_LIFESPAN_APP = """
import asyncio
import contextlib

from starlette.applications import Starlette


@contextlib.asynccontextmanager
async def broken(app):
    raise RuntimeError("cannot connect to the database at db:5432")
    yield


@contextlib.asynccontextmanager
async def slow(app):
    await asyncio.sleep(30)
    yield


app = Starlette(lifespan=broken)
slow_app = Starlette(lifespan=slow)
"""

# A view that raises: Flask catches it, answers 500 and logs it.
FLASK_APP = """
from flask import Flask, request

app = Flask(__name__)


@app.before_request
def require_http2():
    if request.environ["SERVER_PROTOCOL"] != "HTTP/2":
        body = '{"title": "Upgrade Required", "status": 426, "detail": "requires HTTP/2"}'
        headers = {"Upgrade": "HTTP/2.0", "Connection": "upgrade"}
        return body, 426, {**headers, "Content-Type": "application/problem+json"}
    return None


@app.route("/v2/report")
def report():
    raise KeyError("report_template")


@app.route("/v2/sloppy")
def sloppy():
    return "ok", 200, {"Connection": "keep-alive"}
"""

# A Quart app whose 426 is deflate-coded when the client asks for it.
QUART_APP = """
import json
import zlib

from quart import Quart, request

app = Quart(__name__)


@app.route("/v2/items")
async def items():
    if request.scope["http_version"] == "2":
        return {"items": []}
    problem = json.dumps({"title": "Upgrade Required", "status": 426, "detail": "requires HTTP/2"})
    headers = {
        "Upgrade": "HTTP/2.0",
        "Connection": "upgrade",
        "Content-Type": "application/problem+json",
    }
    coding = request.headers.get("X-Coding")
    if coding == "deflate":
        return zlib.compress(problem.encode()), 426, {**headers, "Content-Encoding": "deflate"}
    if coding == "bogus":
        return b"not really gzip", 426, {**headers, "Content-Encoding": "gzip"}
    return problem, 426, headers
"""

# Django with its default middleware (CSRF included) and a view that raises.
DJANGO_APP = """
import django
from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="not-secret",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["127.0.0.1"],
    MIDDLEWARE=[
        "django.middleware.common.CommonMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
    ],
)
django.setup()

from django.core.handlers.wsgi import WSGIHandler
from django.http import JsonResponse
from django.urls import path


def upgrade_required(request):
    problem = {"title": "Upgrade Required", "status": 426, "detail": "requires HTTP/2"}
    response = JsonResponse(problem, status=426, content_type="application/problem+json")
    response["Upgrade"] = "HTTP/2.0"
    response["Connection"] = "upgrade"
    return response


def orders(request):
    if request.META["SERVER_PROTOCOL"] != "HTTP/2":
        return upgrade_required(request)
    return JsonResponse({"created": True}, status=201)


def broken(request):
    if request.META["SERVER_PROTOCOL"] != "HTTP/2":
        return upgrade_required(request)
    raise ValueError("no such report")


urlpatterns = [path("v2/orders", orders), path("v2/broken", broken)]
app = WSGIHandler()
"""

# A WebSocket route that turns HTTP/2 connections away, and a 426 that does
# not say which protocol to use.
STARLETTE_WEBSOCKET_APP = """
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute


async def plain(request):
    problem = {"title": "Upgrade Required", "status": 426, "detail": "Please upgrade."}
    headers = {"Upgrade": "websocket", "Connection": "upgrade"}
    return JSONResponse(
        problem, status_code=426, headers=headers, media_type="application/problem+json"
    )


async def live(websocket):
    if websocket.scope["http_version"] == "2":
        await websocket.close(code=1008)
        return
    await websocket.accept()
    await websocket.send_text(await websocket.receive_text())
    await websocket.close()


app = Starlette(routes=[Route("/ws", plain), WebSocketRoute("/ws", live)])
"""
