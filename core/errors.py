"""What the core refuses, in one vocabulary for every face.

- `NotFound`: no such thing, or not one the asker may see (never said which). The API answers
  404; the bot says it plainly and shows where to go.
- `Refused(message, code)`: a step the core will not take. `message` is plain English for the
  person (a parent in the chat, a caseworker through the API); `code` is stable, for the API.
  `status` says how the caseworker API answers it: 422 (the request cannot be done as asked) by
  default, 409 for a `Conflict` with what is stored.

Areas name their refusals as subclasses (MessageRefused, FormRefused...), so a face can tell
them apart where it must; the API maps them all in one place.
"""

from __future__ import annotations


class NotFound(LookupError):
    def __init__(self, message: str = "There is no such thing, or it is not yours to see.") -> None:
        super().__init__(message)
        self.message = message


class Refused(ValueError):
    status = 422

    def __init__(self, message: str, code: str = "refused") -> None:
        super().__init__(message)
        self.message = message
        self.code = code

    @property
    def api_code(self) -> str:
        """The code the caseworker API answers with."""
        return self.code


class Conflict(Refused):
    """The request conflicts with what is stored (already answered, already there...)."""

    status = 409


__all__ = ["Conflict", "NotFound", "Refused"]
