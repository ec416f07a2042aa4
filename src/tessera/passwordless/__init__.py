"""Passwordless sign-in. For now, one method: a six-digit code sent by email."""

from .email_code import CodeRejected, EmailCodes, SignInThrottled

__all__ = ["CodeRejected", "EmailCodes", "SignInThrottled"]
