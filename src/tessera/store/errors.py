"""What a store refuses, as typed errors with stable codes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..errors import ConfigurationError, TesseraError

__all__ = ["PhoneNumberTaken", "SharedPhoneNumbers"]

_SHOWN = 20  # duplicates named in one message; the rest are counted


class PhoneNumberTaken(TesseraError):
    """A user was stored with a phone number another user holds (numbers are unique among users).

    Nothing was written.
    """

    code = "phone_number_taken"

    def __init__(self) -> None:
        super().__init__("the phone number belongs to another user")


class SharedPhoneNumbers(ConfigurationError):
    """A migration that makes phone numbers unique found users sharing one, and changed nothing."""

    code = "shared_phone_numbers"

    def __init__(self, shared: Mapping[str, Sequence[str]]) -> None:
        named = "; ".join(f"{phone} ({', '.join(users)})" for phone, users in sorted(shared.items())[:_SHOWN])
        more = f"; and {len(shared) - _SHOWN} more" if len(shared) > _SHOWN else ""
        super().__init__(
            f"users share phone numbers: {named}{more}. Give each number to one user, then migrate again"
        )
        self.shared = dict(shared)
