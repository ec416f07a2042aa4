"""The master key from AWS Secrets Manager: the secret named by ``TESSERA_MASTER_KEY_SECRET``.

The secret's ``SecretString`` is the base64url master key (what ``TESSERA_MASTER_KEY`` would
hold; deploy/aws/template.yaml generates 64 alphanumeric characters, 48 bytes). boto3 is
imported only here, and only when a provider is built with the variable set, once per cold start.
"""

from __future__ import annotations

from ..encoding import EncodingError, b64url_decode
from ..errors import ConfigurationError
from .sealing import MasterKey

__all__ = ["MASTER_KEY_SECRET_ENV", "master_key_from_secret"]

MASTER_KEY_SECRET_ENV = "TESSERA_MASTER_KEY_SECRET"


def _region_of(arn: str) -> str:
    parts = arn.split(":", 6)
    if len(parts) != 7 or parts[0] != "arn" or parts[2] != "secretsmanager" or parts[5] != "secret":
        shape = "arn:aws:secretsmanager:REGION:ACCOUNT:secret:NAME"
        raise ConfigurationError(f"{MASTER_KEY_SECRET_ENV} must be a secret's ARN ({shape})")
    if not parts[3] or not parts[6]:
        raise ConfigurationError(f"{MASTER_KEY_SECRET_ENV}: the ARN names no region or no secret")
    return parts[3]


def master_key_from_secret(arn: str) -> MasterKey:
    """The master key held by the Secrets Manager secret ``arn`` (one ``GetSecretValue`` call)."""
    region = _region_of(arn)
    import boto3
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        client = boto3.client("secretsmanager", region_name=region)
        answer = client.get_secret_value(SecretId=arn)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise ConfigurationError(f"the master key secret {arn} could not be read: {code}") from None
    except BotoCoreError as exc:
        raise ConfigurationError(
            f"the master key secret {arn} could not be read: {type(exc).__name__}"
        ) from None
    text = answer.get("SecretString")
    if not isinstance(text, str) or not text.strip():
        raise ConfigurationError(f"the master key secret {arn} holds no SecretString")
    try:
        return MasterKey(b64url_decode(text.strip()))
    except EncodingError:
        raise ConfigurationError(f"the master key secret {arn} is not a base64url master key") from None
