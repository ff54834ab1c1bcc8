"""The one exception type a synwall client raises."""

from __future__ import annotations


class SynwallError(Exception):
    """A request failed: `code` is the gRPC status name (INVALID_ARGUMENT, UNAVAILABLE, ...),
    `message` the server's message, `field` the request field to blame when the server named
    one (INVALID_ARGUMENT)."""

    def __init__(self, code: str, message: str, field: str = ""):
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return "SynwallError(%r, %r, field=%r)" % (self.code, self.message, self.field)
