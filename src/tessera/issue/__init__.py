"""Tessera as an identity provider: the OpenID Connect provider and what it needs to send mail."""
