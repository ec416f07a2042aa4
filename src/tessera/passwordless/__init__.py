"""Passwordless sign-in: one-time codes by email (with a magic link in the same mail) or by SMS."""

from .email_code import CodeRejected, EmailCodes
from .guessing import SignInThrottled
from .magic_link import LinkRejected, MagicLinks

__all__ = ["CodeRejected", "EmailCodes", "LinkRejected", "MagicLinks", "SignInThrottled"]
