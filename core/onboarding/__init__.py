"""Onboarding: from the council's invitation to an activated parent chat (PRODUCT.md journeys 1-3, 9).

Services (each `Service(portal, settings=None)`; settings default to `OnboardingSettings()`):

- `InvitationService`: invitations (SEND team side and parent side), deep links, unique codes,
  "Invitations awaiting approval" and the parent's answer.
- `AccessService`: activating access, which children an account may see.
- `ChatLinkService`: linking, unlinking and "delete my data from this chat".

Tables are in `core.onboarding.models`.
"""

from core.onboarding.access import AccessService, ChildSummary, GrantView
from core.onboarding.errors import (
    AlreadyInvited,
    CaseReferenceConflict,
    ChatNotLinked,
    InvalidState,
    NotFound,
    NotYourInvitation,
    OnboardingError,
    WrongCode,
)
from core.onboarding.invitations import (
    CheckOutcome,
    ChildChoice,
    InvitationCheck,
    InvitationService,
    InvitationStatus,
    InvitationView,
    PendingInvitation,
    RespondResult,
)
from core.onboarding.links import ChatLinkService, ChatLinkView, DeletedChatData, Unlinked
from core.onboarding.settings import OnboardingSettings

__all__ = [
    "AccessService",
    "AlreadyInvited",
    "CaseReferenceConflict",
    "ChatLinkService",
    "ChatLinkView",
    "ChatNotLinked",
    "CheckOutcome",
    "ChildChoice",
    "ChildSummary",
    "DeletedChatData",
    "GrantView",
    "InvalidState",
    "InvitationCheck",
    "InvitationService",
    "InvitationStatus",
    "InvitationView",
    "NotFound",
    "NotYourInvitation",
    "OnboardingError",
    "OnboardingSettings",
    "PendingInvitation",
    "RespondResult",
    "Unlinked",
    "WrongCode",
]
