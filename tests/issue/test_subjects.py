"""User and client subjects cannot be confused (RFC 9068 §5, RFC 8725 §3.11)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tessera.errors import ConfigurationError
from tessera.issue.clients import register_client
from tessera.issue.endpoints.client_auth import hash_client_secret
from tessera.issue.subjects import could_be_user_id, new_user_id
from tessera.store import ClientRecord, User
from tessera.testing.idp import ProviderHarness

SECRET = "service-secret-" + "q" * 40
SERVICE = ClientRecord(
    client_id="reports",
    auth_methods=("client_secret_basic",),
    secret_hash=hash_client_secret(SECRET),
    grant_types=("client_credentials",),
    scopes=("demo:read",),
)


def _client_token(idp: ProviderHarness, client_id: str) -> dict[str, str]:
    response = idp.token({"grant_type": "client_credentials"}, auth=(client_id, SECRET))
    body: dict[str, str] = response.json()
    return body


def test_new_user_ids_are_in_the_user_namespace() -> None:
    assert could_be_user_id(new_user_id())
    assert len({new_user_id() for _ in range(100)}) == 100


@pytest.mark.parametrize(
    "client_id", ["usr_alice", "USR_alice", "Usr_0123456789abcdef", "\uff55sr_x", "usr\u200b_x"]
)
def test_a_client_id_shaped_like_a_user_subject_is_refused_at_registration(
    idp: ProviderHarness, client_id: str
) -> None:
    with pytest.raises(ConfigurationError, match="client_id"):
        register_client(idp.store, replace(SERVICE, client_id=client_id))
    assert idp.store.get_client(client_id) is None


def test_a_client_id_equal_to_a_users_id_is_refused_at_registration(idp: ProviderHarness) -> None:
    idp.store.put_user(User("alice-imported", "imported@example.com", True, "Imported", ()))
    with pytest.raises(ConfigurationError, match="user's id"):
        register_client(idp.store, replace(SERVICE, client_id="alice-imported"))


def test_a_client_whose_id_could_be_a_user_gets_no_client_credentials_token(idp: ProviderHarness) -> None:
    idp.store.put_client(replace(SERVICE, client_id="usr_alice"))  # past register_client
    refused = _client_token(idp, "usr_alice")
    assert refused["error"] == "unauthorized_client"
    assert "access_token" not in refused
    register_client(idp.store, replace(SERVICE, client_id="later"))
    idp.store.put_user(User("later", "later@example.com", True, "Later", ()))  # a user took the id since
    assert _client_token(idp, "later")["error"] == "unauthorized_client"


def test_a_genuine_service_client_gets_its_own_id_as_sub(idp: ProviderHarness) -> None:
    register_client(idp.store, replace(SERVICE, client_id="svc-usr_reports"))
    token = _client_token(idp, "svc-usr_reports")["access_token"]
    assert idp.hello(token).json()["subject"] == "svc-usr_reports"
