"""The one base class of every error this project raises on purpose."""


class OutreachError(Exception):
    """An error with a message a person can act on."""


class SendError(OutreachError):
    """A message could not be sent. ``retryable`` says whether trying again can help.

    ``reason`` is one of: ``opted_out`` (the person said STOP), ``unreachable``
    (invalid number, landline, blocked bot), ``rate_limited``, ``provider``
    (the provider failed; try later), ``rejected`` (our request was wrong).
    """

    def __init__(self, message: str, *, retryable: bool, reason: str, code: int | None = None):
        super().__init__(message)
        self.retryable = retryable
        self.reason = reason
        self.code = code
