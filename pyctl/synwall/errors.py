"""synwall's exceptions, on both sides of the API, none of them tied to a transport.

In synwalld, the controller raises the `ControllerError` kinds below; the gRPC server maps
each kind to a status code in one place (server.py, `maps_errors`). A client receives every
failure as one type, `SynwallError`, carrying the status name, the server's message and the
field it blamed.
"""

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


# --- what the controller raises ----------------------------------------------------------


class ControllerError(Exception):
    """A request the controller could not carry out; nothing was changed. `message` is one
    line that starts with the field to blame, if any; `field` names it ("" if none)."""

    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class InvalidRequest(ControllerError):
    """Wrong as sent: a value out of range, a mode that does not exist, a start-time setting."""


class NotFound(ControllerError):
    """What the request names is not there (deleting a policy nobody set)."""


class FailedPrecondition(ControllerError):
    """Well-formed, but not in the controller's present state (rotating keys that follow a
    master secret)."""


class Unavailable(ControllerError):
    """The dataplane is down or restarting; the same request may succeed later."""


class ResourceExhausted(ControllerError):
    """Too many of something at once (counter watch streams); retry once one has ended."""


class Aborted(ControllerError):
    """Refused because another operation that cannot run beside it is under way (a second
    dataplane restart); nothing was done."""
