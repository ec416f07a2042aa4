"""Tessera as an identity provider: the OpenID Connect provider and what it needs to send mail.

Build one with :class:`~tessera.issue.provider.Provider` and serve
:func:`~tessera.issue.app.create_app`; ``tessera dev`` does both on SQLite.
"""
