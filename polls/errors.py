"""The one base class of every error this project raises on purpose."""


class OutreachError(Exception):
    """An error with a message a person can act on."""
