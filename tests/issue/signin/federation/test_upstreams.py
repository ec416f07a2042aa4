"""The ``[[upstreams]]`` entries: checked when built, completed by presets, nothing fetched."""

from __future__ import annotations

from typing import Any

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.signin.federation import upstream_from_mapping, upstreams_from_config

BASE = {
    "id": "corp",
    "name": "Corp SSO",
    "issuer": "https://login.example.com",
    "client_id": "tessera",
    "client_secret_env": "CORP_CLIENT_SECRET",
    "scopes": ["openid", "email", "profile"],
}


def test_the_issue_example_is_valid_and_its_callback_is_under_the_issuer() -> None:
    upstream = upstream_from_mapping(BASE)
    assert upstream.callback_url("https://id.example.com") == "https://id.example.com/upstream/corp/callback"
    assert upstream.scopes == ("openid", "email", "profile")


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"id": "Corp SSO"}, "id must be"),
        ({"id": "../x"}, "id must be"),
        ({"issuer": "http://login.example.com"}, "https URL"),
        ({"issuer": "https://login.example.com/?q=1"}, "https URL"),
        ({"client_id": None}, "client_id is required"),
        ({"client_secret_env": None}, "exactly one of"),
        ({"private_key_jwt": True}, "give no client_secret_env"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "give no client_secret_env"),
        ({"token_endpoint_auth_method": "client_secret_jwt"}, "token_endpoint_auth_method must be one of"),
        (
            {"private_key_jwt": True, "token_endpoint_auth_method": "client_secret_post"},
            "contradicts token_endpoint_auth_method",
        ),
        ({"keep_tokens": "yes"}, "keep_tokens must be true or false"),
        ({"client_secret_env": "lower-case"}, "environment variable"),
        ({"scopes": ["email"]}, '"openid"'),
        ({"scopes": "openid email"}, "list of scope names"),
        ({"preset": "myspace"}, "preset must be one of"),
        ({"colour": "blue"}, "unknown setting"),
        ({"preset": "entra", "issuer": "https://login.microsoftonline.com/common/v2.0"}, "tenants allowlist"),
        ({"preset": "apple", "client_secret_env": None, "apple_team_id": "T"}, "go together"),
    ],
)
def test_a_bad_entry_is_refused_with_its_id_and_reason(change: dict[str, Any], words: str) -> None:
    entry = {k: v for k, v in {**BASE, **change}.items() if v is not None}
    with pytest.raises(ConfigurationError, match=words):
        upstream_from_mapping(entry)


def test_ids_are_unique() -> None:
    with pytest.raises(ConfigurationError, match="unique"):
        upstreams_from_config([BASE, BASE])


def test_presets_fill_what_they_know() -> None:
    google = upstream_from_mapping(
        {"id": "g", "preset": "google", "client_id": "x", "client_secret_env": "G"}
    )
    assert google.issuer == "https://accounts.google.com" and google.trusts_email_verified
    github = upstream_from_mapping(
        {"id": "gh", "preset": "github", "client_id": "x", "client_secret_env": "G"}
    )
    assert github.kind == "github" and github.token_endpoint == "https://github.com/login/oauth/access_token"
    assert github.scopes == ("read:user", "user:email")
    apple = upstream_from_mapping(
        {
            "id": "apple",
            "preset": "apple",
            "client_id": "com.example.web",
            "apple_team_id": "TEAM",
            "apple_key_id": "KEY",
            "apple_private_key_env": "APPLE_KEY",
        }
    )
    assert apple.response_mode == "form_post"
    entra = upstream_from_mapping(
        {"id": "ms", "preset": "entra", "client_id": "x", "client_secret_env": "M", "tenants": ["t1", "t2"]}
    )
    assert entra.accepted_issuers == {
        "https://login.microsoftonline.com/t1/v2.0",
        "https://login.microsoftonline.com/t2/v2.0",
    }
    assert not entra.trusts_email_verified


def test_the_token_endpoint_auth_method_is_chosen_or_comes_from_the_preset() -> None:
    assert upstream_from_mapping(BASE).token_endpoint_auth_method == "client_secret_basic"
    posted = upstream_from_mapping({**BASE, "token_endpoint_auth_method": "client_secret_post"})
    assert posted.token_endpoint_auth_method == "client_secret_post"
    no_secret = {k: v for k, v in BASE.items() if k != "client_secret_env"}
    signed = upstream_from_mapping({**no_secret, "token_endpoint_auth_method": "private_key_jwt"})
    assert signed.token_endpoint_auth_method == "private_key_jwt" and signed.private_key_jwt
    older = upstream_from_mapping({**no_secret, "private_key_jwt": True})
    assert older.token_endpoint_auth_method == "private_key_jwt"
    google = upstream_from_mapping(
        {"id": "g", "preset": "google", "client_id": "x", "client_secret_env": "G"}
    )
    assert google.token_endpoint_auth_method == "client_secret_post"
    basic_google = upstream_from_mapping(
        {
            "id": "g",
            "preset": "google",
            "client_id": "x",
            "client_secret_env": "G",
            "token_endpoint_auth_method": "client_secret_basic",
        }
    )
    assert basic_google.token_endpoint_auth_method == "client_secret_basic"


def test_upstream_tokens_are_not_kept_unless_asked() -> None:
    assert not upstream_from_mapping(BASE).keep_tokens
    assert upstream_from_mapping({**BASE, "keep_tokens": True}).keep_tokens
