"""One-time codes by SMS: E.164 numbers, an :class:`SmsSender` protocol, and send limits against pumping.

A number is parsed and validated with ``phonenumbers`` and kept in E.164 (``+447700900123``).
A code by SMS is an email code's challenge under another account key (``tel:+447700900123``):
the same digits, ten-minute expiry, attempts per challenge, guess budgets per source address
and per account, and resend throttle (:class:`~.email_code.EmailCodes`). On top, every text
sent costs money and SMS pumping fraud sends them in bulk to premium ranges, so sends are
capped per number and per destination country each clock hour, counted before the message is
queued. The message is queued (sealed) for every valid number and sent by the mail sender
thread only if the number belongs to an enabled user, so the answer does not tell which
numbers have accounts (PWL-09).

:class:`SnsSmsSender` publishes through Amazon SNS with boto3 (imported when the sender is
built, so nothing else pays for it); :class:`DevSmsSender` keeps the text in the dev outbox.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigurationError, TesseraError
from ..store import RateCounters
from .guessing import HOUR_SECONDS, SignInThrottled, account_key

if TYPE_CHECKING:
    from ..issue.mail.delivery import DevOutbox
    from .email_code import Challenge, EmailCodes

__all__ = [
    "DevSmsSender",
    "PhoneNumberRejected",
    "SmsCodes",
    "SmsDeliveryFailed",
    "SmsMessage",
    "SmsSender",
    "SmsSendLimited",
    "SnsSmsSender",
    "normalise_phone",
    "phone_account",
]

MAX_PHONE_INPUT = 32
_E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)
_PHONE_CHARACTERS = re.compile(r"[0-9+()./ \t-]+", re.ASCII)


class PhoneNumberRejected(TesseraError):
    """The text is not a valid phone number (in international form, or for the default region)."""

    code = "phone_number_invalid"


class SmsDeliveryFailed(TesseraError):
    """The SMS provider could not take the message."""

    code = "sms_delivery_failed"


class SmsSendLimited(SignInThrottled):
    """Too many texts sent to this number, or to this country, this hour."""

    code = "sms_send_limited"

    def __init__(self, retry_after_seconds: int, scope: str) -> None:
        super().__init__(retry_after_seconds)
        self.scope = scope


def normalise_phone(value: str, default_region: str | None = None) -> str:
    """``value`` as an E.164 number, or raise :class:`PhoneNumberRejected`.

    Without ``default_region`` the number must be international (``+`` and a country code).
    Letters, extensions and anything ``phonenumbers`` finds impossible or unassigned are refused.
    """
    import phonenumbers

    text = value.strip()
    if not text or len(text) > MAX_PHONE_INPUT or _PHONE_CHARACTERS.fullmatch(text) is None:
        raise PhoneNumberRejected("not a phone number")
    try:
        parsed = phonenumbers.parse(text, default_region)
    except phonenumbers.NumberParseException:
        raise PhoneNumberRejected("not a phone number") from None
    if not phonenumbers.is_valid_number(parsed):
        raise PhoneNumberRejected("not a valid phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _country(e164: str) -> str:
    """The destination's region code (``GB``), or its calling code for a non-geographic number."""
    import phonenumbers

    parsed = phonenumbers.parse(e164, None)
    return phonenumbers.region_code_for_number(parsed) or f"+{parsed.country_code}"


def phone_account(e164: str) -> str:
    """The account key a number's challenges and budgets are kept under."""
    return f"tel:{e164}"


@dataclass(frozen=True, slots=True)
class SmsMessage:
    """One text to one E.164 number; raises :class:`PhoneNumberRejected` for anything else."""

    to: str
    text: str

    def __post_init__(self) -> None:
        if _E164.fullmatch(self.to) is None:
            raise PhoneNumberRejected("not an E.164 number")


class SmsSender(Protocol):
    """Anything that delivers an :class:`SmsMessage`; raises :class:`SmsDeliveryFailed` when it cannot."""

    def send(self, message: SmsMessage) -> None:
        """Deliver ``message`` or raise :class:`SmsDeliveryFailed`."""
        ...


class SnsSmsSender:
    """Sends texts with Amazon SNS ``Publish`` to a phone number, as transactional messages."""

    def __init__(
        self,
        *,
        region_name: str | None = None,
        endpoint_url: str | None = None,
        sender_id: str | None = None,
        client: Any = None,
    ) -> None:
        if client is None:
            try:
                import boto3
            except ImportError:
                raise ConfigurationError("the SNS SMS sender needs boto3 (pip install boto3)") from None
            client = boto3.client("sns", region_name=region_name, endpoint_url=endpoint_url)
        self._client = client
        self._sender_id = sender_id

    def __repr__(self) -> str:
        return f"SnsSmsSender(sender_id={self._sender_id!r})"

    def send(self, message: SmsMessage) -> None:
        """Publish ``message``; raises :class:`SmsDeliveryFailed` if SNS refuses it or cannot be reached."""
        from botocore.exceptions import BotoCoreError, ClientError

        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if self._sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": self._sender_id}
        try:
            self._client.publish(PhoneNumber=message.to, Message=message.text, MessageAttributes=attributes)
        except (BotoCoreError, ClientError) as exc:
            raise SmsDeliveryFailed(f"SNS publish failed: {type(exc).__name__}") from None


class DevSmsSender:
    """A development :class:`SmsSender`: keeps each text in the dev outbox (``GET /dev/outbox``)."""

    def __init__(self, outbox: DevOutbox) -> None:
        self._outbox = outbox

    def send(self, message: SmsMessage) -> None:
        """Keep ``message`` in the outbox, addressed to its number, with the subject ``SMS``."""
        self._outbox.keep(message.to, "SMS", message.text)


class SmsPoster(Protocol):
    """Where code texts go: the queue (:class:`tessera.issue.mail.outgoing.Outgoing`), never the provider."""

    def post_sms(self, message: SmsMessage, *, expires_at: float, account_only: bool) -> None:
        """Queue ``message``; with ``account_only``, it is sent only to an enabled user's number."""
        ...


class SmsCodes:
    """Starts sign-ins by SMS code; the codes are checked by :meth:`EmailCodes.verify`."""

    def __init__(
        self,
        codes: EmailCodes,
        counters: RateCounters,
        poster: SmsPoster,
        *,
        issuer_name: str = "Tessera",
        sends_per_hour_per_number: int = 5,
        sends_per_hour_per_country: int = 100,
        default_region: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if sends_per_hour_per_number < 1 or sends_per_hour_per_country < 1:
            raise ConfigurationError("SMS send limits must be at least 1")
        self._codes = codes
        self._counters = counters
        self._poster = poster
        self._issuer_name = issuer_name
        self.sends_per_hour_per_number = sends_per_hour_per_number
        self.sends_per_hour_per_country = sends_per_hour_per_country
        self.default_region = default_region
        self._clock = clock

    def _spend(self, key: str, limit: int, scope: str) -> None:
        now = self._clock()
        hour = int(now // HOUR_SECONDS)
        if self._counters.add_hit(key, hour * 60) > limit:
            raise SmsSendLimited(int((hour + 1) * HOUR_SECONDS - now) + 1, scope)

    def start(self, phone: str, source: str) -> Challenge:
        """Begin a sign-in for the number ``phone`` asked from ``source``: a challenge and a queued text.

        Raises :class:`PhoneNumberRejected` for an invalid number, :class:`SignInThrottled` as
        :meth:`EmailCodes.start` does, and :class:`SmsSendLimited` once the number's or its
        country's texts for this hour are spent (known and unknown numbers alike).
        """
        e164 = normalise_phone(phone, self.default_region)
        account = phone_account(e164)
        self._codes.check_throttles(account, source)
        self._spend(f"sms-number:{account_key(account)}", self.sends_per_hour_per_number, "number")
        self._spend(f"sms-country:{_country(e164)}", self.sends_per_hour_per_country, "country")
        challenge, code, expires_at = self._codes.open_challenge(account)
        minutes = self._codes.ttl_seconds // 60
        text = f"Your {self._issuer_name} sign-in code is {code}. It expires in {minutes} minutes."
        self._poster.post_sms(SmsMessage(e164, text), expires_at=expires_at, account_only=True)
        return challenge
