"""What onboarding refuses. Each error has a stable `code`; the API maps them to statuses."""

from __future__ import annotations

from core.errors import Conflict, NotFound

__all__ = [
    "AlreadyInvited", "CaseReferenceConflict", "ChatNotLinked", "InvalidState", "NotFound", "NotYourInvitation",
    "OnboardingError", "WrongCode",
]


class OnboardingError(Conflict):
    """A step of onboarding that conflicts with the invitation's or grant's state (409)."""

    code = "onboarding_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code or type(self).code)


class CaseReferenceConflict(OnboardingError):
    """The case reference belongs to a different child."""

    code = "case_reference_conflict"


class AlreadyInvited(OnboardingError):
    """This email already has an open invitation for this child (resend it instead)."""

    code = "already_invited"


class InvalidState(OnboardingError):
    """The invitation or grant is not in a state that allows this (answered, expired, not accepted...)."""

    code = "invalid_state"


class WrongCode(OnboardingError):
    """The unique code the SEND team typed (as quoted by phone) is not this invitation's."""

    code = "wrong_code"
    status = 422


class NotYourInvitation(OnboardingError):
    """An invitation id that is not a pending invitation of this account (stale or forged)."""

    code = "not_your_invitation"


class ChatNotLinked(OnboardingError):
    """The chat is not linked to this account."""

    code = "chat_not_linked"
