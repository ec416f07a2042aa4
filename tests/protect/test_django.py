"""WSGI middleware in front of a real Django project, served over HTTP on 127.0.0.1.

The project is configured here (``settings.configure``, this module's ``urlpatterns``) and
wrapped as docs/protect.md shows: ``AuthorizeMiddleware(get_wsgi_application(), guard=...)``;
its views read the principal with ``get_principal(request.META)``.
"""

from __future__ import annotations

import secrets
from typing import Any

import pytest
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import path

from tessera.protect import Guard
from tessera.protect.wsgi import AuthorizeMiddleware, get_principal

from ..gateway.http_client import send
from .conftest import API, ERROR_CODES, TOKEN_CASES, ServeWSGI, auth_headers


def whoami(request: HttpRequest) -> HttpResponse:
    principal = get_principal(request.META)
    return JsonResponse(
        {
            "principal_id": principal.principal_id,
            "scopes": sorted(principal.scopes),
            "size": request.GET.get("size"),
        }
    )


def echo_form(request: HttpRequest) -> HttpResponse:
    return HttpResponse(f"{request.POST['name']} for {get_principal(request.META).subject}")


urlpatterns = [path("whoami", whoami), path("form", echo_form)]  # ROOT_URLCONF


def django_application() -> Any:
    """The Django project's WSGI application, configured once per process."""
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY=secrets.token_urlsafe(32),
            ALLOWED_HOSTS=["127.0.0.1"],
            ROOT_URLCONF=__name__,
            INSTALLED_APPS=[],
            MIDDLEWARE=[],
            DATABASES={},
        )
    return get_wsgi_application()


@pytest.fixture(scope="module")
def django_url(serve_wsgi: ServeWSGI) -> str:
    """The protected Django project on 127.0.0.1:<free port>."""
    guard = Guard(API.verifier, scopes=["orders:write"])
    return serve_wsgi(AuthorizeMiddleware(django_application(), guard=guard))


@pytest.mark.parametrize(("kind", "status", "challenge"), TOKEN_CASES)
def test_django_behind_the_wsgi_middleware(
    django_url: str, kind: str, status: int, challenge: str | None
) -> None:
    reply = send("GET", f"{django_url}/whoami?size=large", headers=auth_headers(kind))

    assert reply.status == status
    assert reply.header("WWW-Authenticate") == challenge
    if status == 200:
        assert reply.json() == {
            "principal_id": "alice",
            "scopes": ["orders:read", "orders:write"],
            "size": "large",
        }
    else:
        assert reply.header("Cache-Control") == "no-store"
        assert reply.header("Content-Type") == "application/json"
        assert reply.json()["error"] == ERROR_CODES[kind]
        assert set(reply.json()) == {"error", "error_description"}


def test_ver54_django_rejections_do_not_say_which_check_failed(django_url: str) -> None:
    bodies = {
        kind: send("GET", f"{django_url}/whoami", headers=auth_headers(kind)).body
        for kind in ("expired", "wrong_audience")
    }
    forged = send("GET", f"{django_url}/whoami", headers={"Authorization": f"Bearer {API.forged()}"})
    genuine = send("GET", f"{django_url}/whoami", headers=auth_headers("good"))

    assert forged.status == 401
    assert bodies["expired"] == bodies["wrong_audience"] == forged.body
    assert genuine.status == 200


def test_ver52_django_form_token_next_to_a_header_is_refused_and_good_forms_reach_the_view(
    django_url: str,
) -> None:
    form = {**auth_headers("good"), "Content-Type": "application/x-www-form-urlencoded"}

    twice = send("POST", f"{django_url}/form", headers=form, body=f"access_token={API.token()}".encode())
    fine = send("POST", f"{django_url}/form", headers=form, body=b"name=widget")

    assert twice.status == 400
    assert twice.json()["error"] == "invalid_request"
    assert fine.status == 200
    assert fine.body == b"widget for alice"


def test_ver52_django_two_authorization_headers_are_folded_by_the_server_and_refused(
    django_url: str,
) -> None:
    token = f"Bearer {API.token()}"

    twice = send("GET", f"{django_url}/whoami", headers=[("Authorization", token), ("Authorization", token)])
    once = send("GET", f"{django_url}/whoami", headers=[("Authorization", token)])

    assert twice.status == 401
    assert twice.header("WWW-Authenticate") == 'Bearer realm="tessera", error="invalid_token"'
    assert once.status == 200


def test_django_routing_runs_after_the_guard(django_url: str) -> None:
    unknown_anonymous = send("GET", f"{django_url}/nowhere")
    unknown_authenticated = send("GET", f"{django_url}/nowhere", headers=auth_headers("good"))

    assert unknown_anonymous.status == 401
    assert unknown_authenticated.status == 404
