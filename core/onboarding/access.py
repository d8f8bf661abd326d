"""Access grants: which account may see which child. Only an ACTIVE grant gives access.

The SEND team activates an accepted grant (`activate_access`); every linked chat of that account
is told at once (an important notice, with the account's email as fallback), in the same
transaction. `children_for_account` and `can_access` are what every other journey asks before
showing a child's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.events import AccessChanged
from core.onboarding import texts
from core.onboarding._common import active_account_for_chat, has_active_access, notify_account
from core.onboarding.errors import InvalidState, NotFound
from core.onboarding.models import AccessGrant, Case, Child, Invitation
from core.onboarding.settings import OnboardingSettings
from core.portal import Portal


@dataclass(frozen=True, slots=True)
class GrantView:
    """A carer's access to a child, as the SEND team sees it: the carer's name, never their address."""

    id: int
    invitation_id: int
    child_id: int
    account_id: int | None
    carer_forename: str
    carer_surname: str
    status: str  # pending | accepted | declined | active | revoked
    created_at: datetime
    responded_at: datetime | None
    activated_at: datetime | None


@dataclass(frozen=True, slots=True)
class ChildSummary:
    """A child the account has active access to."""

    id: int
    forename: str
    surname: str
    date_of_birth: date
    case_id: int
    case_reference: str


class AccessService:
    def __init__(self, portal: Portal, settings: OnboardingSettings | None = None) -> None:
        self.portal = portal
        self.settings = settings or portal.settings.onboarding

    async def activate_access(self, grant_id: int, actor: Actor) -> GrantView:
        """The SEND team activates an accepted grant. Already active: answered as it is, nothing sent.

        Refused (InvalidState, code "not_accepted") unless the carer accepted the invitation.
        """
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            row = (
                await s.execute(
                    select(AccessGrant, Invitation, Child)
                    .join(Invitation, Invitation.id == AccessGrant.invitation_id)
                    .join(Child, Child.id == AccessGrant.child_id)
                    .where(AccessGrant.id == grant_id)
                    .with_for_update(of=AccessGrant)
                )
            ).first()
            if row is None:
                raise NotFound("No such access grant.")
            grant, inv, child = row
            if grant.status == "active":
                return _grant_view(grant, inv)
            if grant.status != "accepted" or grant.account_id is None:
                raise InvalidState(
                    f"Access can be activated once the carer has accepted the invitation (it is {grant.status}).",
                    code="not_accepted",
                )
            grant.status = "active"
            grant.activated_at = now
            grant.activated_by = actor.id
            await self._announce(s, grant, child, now)
            await self.portal.events.publish(s, AccessChanged(at=now, account_id=grant.account_id))
            audit(s, actor, "access.activate", at=now, child_id=child.id, subject=f"grant:{grant.id}")
            return _grant_view(grant, inv)

    async def _announce(self, s: AsyncSession, grant: AccessGrant, child: Child, now: datetime) -> None:
        assert grant.account_id is not None
        await notify_account(
            s,
            grant.account_id,
            now=now,
            text=texts.access_activated_notice(child.forename, self.settings.send_team_name),
            key=f"access-activated:{grant.id}",
            email_subject=texts.access_activated_subject(child.forename),
            child_id=child.id,
        )

    async def access_for_child(self, child_id: int, actor: Actor) -> list[GrantView]:
        """The grants of a child (one per invited carer): the carer's name and status, nothing else."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            if await s.get(Child, child_id) is None:
                raise NotFound("No such child.")
            rows = (
                await s.execute(
                    select(AccessGrant, Invitation)
                    .join(Invitation, Invitation.id == AccessGrant.invitation_id)
                    .where(AccessGrant.child_id == child_id)
                    .order_by(AccessGrant.id)
                )
            ).all()
            audit(s, actor, "access.list", at=now, child_id=child_id)
            return [_grant_view(g, inv) for g, inv in rows]

    async def children_for_account(self, account_id: int) -> list[ChildSummary]:
        """The children this account has ACTIVE access to (none before the SEND team activates)."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            children = await self._children(s, account_id)
            actor = Actor.parent(account_id)
            for c in children:
                audit(s, actor, "child.list", at=now, child_id=c.id)
            return children

    async def children_for_chat(self, chat_id: int) -> list[ChildSummary]:
        """The children the account linked to this chat may see; none if the chat is not linked."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            if account_id is None:
                return []
            children = await self._children(s, account_id)
            actor = Actor.parent(account_id)
            for c in children:
                audit(s, actor, "child.list", at=now, child_id=c.id)
            return children

    async def can_access(self, account_id: int, child_id: int) -> bool:
        async with self.portal.db() as s:
            return await has_active_access(s, account_id, child_id)

    async def can_chat_access(self, chat_id: int, child_id: int) -> int | None:
        """The account id if the chat is linked to an account with active access to the child, else None."""
        async with self.portal.db() as s:
            account_id = await active_account_for_chat(s, chat_id)
            if account_id is None:
                return None
            return account_id if await has_active_access(s, account_id, child_id) else None

    @staticmethod
    async def _children(s: AsyncSession, account_id: int) -> list[ChildSummary]:
        rows = (
            await s.execute(
                select(Child, Case)
                .join(AccessGrant, AccessGrant.child_id == Child.id)
                .join(Case, Case.child_id == Child.id)
                .where(AccessGrant.account_id == account_id, AccessGrant.status == "active")
                .order_by(Child.forename, Child.id)
            )
        ).all()
        seen: set[int] = set()
        out: list[ChildSummary] = []
        for child, case in rows:
            if child.id in seen:
                continue
            seen.add(child.id)
            out.append(
                ChildSummary(
                    id=child.id,
                    forename=child.forename,
                    surname=child.surname,
                    date_of_birth=child.date_of_birth,
                    case_id=case.id,
                    case_reference=case.case_reference,
                )
            )
        return out


def _grant_view(grant: AccessGrant, inv: Invitation) -> GrantView:
    return GrantView(
        id=grant.id,
        invitation_id=grant.invitation_id,
        child_id=grant.child_id,
        account_id=grant.account_id,
        carer_forename=inv.forename,
        carer_surname=inv.surname,
        status=grant.status,
        created_at=grant.created_at,
        responded_at=grant.responded_at,
        activated_at=grant.activated_at,
    )
