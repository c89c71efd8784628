"""Domain errors raised by actions and rendered by every entry point in its own format."""

from __future__ import annotations


class DomainError(Exception):
    """A refused request: nothing was stored. `details` maps a field to its message."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, details: dict[str, str] | None = None, code: str | None = None):
        super().__init__(str(message))
        self.message = str(message)
        self.details = {k: str(v) for k, v in (details or {}).items()}
        if code:
            self.code = code


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class NotAllowed(DomainError):
    """The move is not allowed in the current state or for the actor's role."""

    status = 409
    code = "not_allowed"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"
