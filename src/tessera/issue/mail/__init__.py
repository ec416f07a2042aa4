"""The provider's outgoing mail: delivery (SMTP, dev outbox) and the sealed queue a sender thread drains."""
