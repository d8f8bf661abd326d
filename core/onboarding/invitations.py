"""Invitations: the SEND team invites a carer for a child; the carer verifies and answers in the chat.

The SEND team's side (through the caseworker API): `create_invitation`, `list_invitations`,
`get_invitation`, `mark_verified` (after a phone check), `resend` (new code and link, the old
ones dead, a locked invitation unlocked).

The parent's side (through the bot): `open_invitation_link` (the /start payload), then
`check_unique_code`, then, once the chat is linked to an account, `pending_invitations_for` and
`respond`. Ownership is checked here, never trusted from a button: `respond` refuses any id that
is not a pending invitation of this account.

Deep-link token rules: bound to the first chat that opens it, expires with the invitation, used up
when the invitation is answered (not when opened: link previews open links).

Which invitations are an account's: pending (unanswered, not expired, not locked) and either sent
to the account's (confirmed) email address, or opened in a chat now linked to the account and
verified there or by phone (a parent who registers with another address).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.onboarding import codes, texts
from core.onboarding._common import (
    account_email,
    active_account_for_chat,
    active_chats_for_account,
    chat_actor,
    normalise_email,
)
from core.onboarding.errors import (
    AlreadyInvited,
    CaseReferenceConflict,
    ChatNotLinked,
    InvalidState,
    NotFound,
    NotYourInvitation,
    WrongCode,
)
from core.onboarding.invitation_views import (  # noqa: F401 - part of this module's interface
    CheckOutcome,
    ChildChoice,
    InvitationCheck,
    InvitationStatus,
    InvitationView,
    PendingInvitation,
    RespondResult,
    _same_child,
    invitation_status,
    status_condition,
)
from core.onboarding.models import AccessGrant, Case, Child, Invitation
from core.onboarding.settings import OnboardingSettings
from core.outbox import enqueue_email
from core.portal import Portal
from core.security import constant_time_equal

log = logging.getLogger(__name__)


class InvitationService:
    def __init__(self, portal: Portal, settings: OnboardingSettings | None = None) -> None:
        self.portal = portal
        self.settings = settings or portal.settings.onboarding

    # ------------------------------------------------------------------ the SEND team's side

    async def create_invitation(
        self,
        actor: Actor,
        *,
        parent_email: str,
        parent_forename: str,
        parent_surname: str,
        child_forename: str,
        child_surname: str,
        child_date_of_birth: date,
        case_reference: str,
    ) -> InvitationView:
        """Invite a carer for a child. Makes the child and case if the reference is new, a pending
        access grant, and queues the "Accept Portal Invitation" email, all in one transaction.

        Refuses a reference that belongs to a different child (CaseReferenceConflict) and a second
        open invitation of the same email for the same child (AlreadyInvited: resend instead).
        """
        email = normalise_email(parent_email)
        reference = case_reference.strip()
        child_forename, child_surname = child_forename.strip(), child_surname.strip()
        for attempt in range(2):
            try:
                return await self._create(
                    actor, email, parent_forename.strip(), parent_surname.strip(),
                    child_forename, child_surname, child_date_of_birth, reference,
                )
            except IntegrityError:
                # A case with this reference (or a code) was made at the same moment: look again.
                if attempt:
                    raise
        raise AssertionError("unreachable")  # pragma: no cover

    async def _create(
        self,
        actor: Actor,
        email: str,
        parent_forename: str,
        parent_surname: str,
        child_forename: str,
        child_surname: str,
        dob: date,
        reference: str,
    ) -> InvitationView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case = await s.scalar(select(Case).where(Case.case_reference == reference))
            if case is not None:
                child = await s.get(Child, case.child_id)
                assert child is not None
                if not _same_child(child, child_forename, child_surname, dob):
                    raise CaseReferenceConflict("This case reference belongs to a different child.")
                taken = await s.scalar(
                    select(Invitation.id)
                    .join(AccessGrant, AccessGrant.invitation_id == Invitation.id)
                    .where(
                        Invitation.child_id == child.id,
                        Invitation.email == email,
                        or_(
                            and_(Invitation.response.is_(None), Invitation.expires_at > now),
                            AccessGrant.status.in_(("accepted", "active")),
                        ),
                    )
                    .limit(1)
                )
                if taken is not None:
                    raise AlreadyInvited(
                        f"This email already has an open invitation or access for this child (invitation {taken})."
                    )
            else:
                child = Child(forename=child_forename, surname=child_surname, date_of_birth=dob, created_at=now)
                s.add(child)
                await s.flush()
                case = Case(child_id=child.id, case_reference=reference, created_at=now)
                s.add(case)
                await s.flush()

            code, code_mac = await self._unused_code(s)
            token = codes.new_link_token()
            inv = Invitation(
                child_id=child.id,
                case_id=case.id,
                email=email,
                forename=parent_forename,
                surname=parent_surname,
                created_at=now,
                created_by=actor.id,
                expires_at=now + self.settings.invitation_ttl,
                code_hmac=code_mac,
                token_digest=codes.token_digest(token),
                sent_count=1,
                last_sent_at=now,
                wrong_tries=0,
            )
            s.add(inv)
            await s.flush()
            grant = AccessGrant(invitation_id=inv.id, child_id=child.id, status="pending", created_at=now)
            s.add(grant)
            await s.flush()
            self._queue_invitation_email(s, inv, child, code, token, now, again=False)
            audit(s, actor, "invitation.create", at=now, child_id=child.id, subject=f"invitation:{inv.id}")
            return self._view(inv, child, case, grant, now)

    async def get_invitation(self, invitation_id: int, actor: Actor) -> InvitationView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            inv, child, case, grant = await self._one(s, invitation_id)
            audit(s, actor, "invitation.read", at=now, child_id=child.id, subject=f"invitation:{inv.id}")
            return self._view(inv, child, case, grant, now)

    async def list_invitations(
        self,
        actor: Actor,
        *,
        status: InvitationStatus | str | None = None,
        case_reference: str | None = None,
        child_id: int | None = None,
        limit: int = 50,
        cursor: int | None = None,
    ) -> tuple[list[InvitationView], int | None]:
        """Invitations, newest first, and the cursor of the next page (None on the last)."""
        now = self.portal.clock.now()
        stmt = self._joined().order_by(Invitation.id.desc()).limit(limit + 1)
        if status is not None:
            stmt = stmt.where(status_condition(status, now))
        if case_reference is not None:
            stmt = stmt.where(Case.case_reference == case_reference.strip())
        if child_id is not None:
            stmt = stmt.where(Invitation.child_id == child_id)
        if cursor is not None:
            stmt = stmt.where(Invitation.id < cursor)
        async with self.portal.db() as s, s.begin():
            rows = (await s.execute(stmt)).all()
            more = len(rows) > limit
            rows = rows[:limit]
            for cid in sorted({r[1].id for r in rows}):
                audit(s, actor, "invitation.list", at=now, child_id=cid)
            views = [self._view(*r, now) for r in rows]
        return views, (views[-1].id if more and views else None)

    async def mark_verified(self, invitation_id: int, actor: Actor, *, code: str | None = None) -> InvitationView:
        """The SEND team verified the carer by phone: the parent then skips the unique code.

        With `code` (the unique code the parent quoted), it must be this invitation's
        (WrongCode otherwise; not counted against the parent's tries). Refused once answered,
        expired or locked (a locked invitation needs a resend: someone guessed at its code).
        """
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            inv, child, case, grant = await self._one(s, invitation_id, lock=True)
            self._refuse_unless_open(inv, now)
            if inv.locked_at is not None:
                raise InvalidState(
                    "Too many wrong codes were tried for this invitation. Resend it first.", code="locked"
                )
            if code is not None:
                typed = codes.normalise_code(code)
                if typed is None or not constant_time_equal(codes.code_hmac(self.portal.secret_key, typed), inv.code_hmac):
                    raise WrongCode("That is not this invitation's unique code.")
            if inv.verified_at is None:
                inv.verified_at = now
                inv.verified_by = "phone"
                audit(s, actor, "invitation.verify", at=now, child_id=child.id, subject=f"invitation:{inv.id}")
            return self._view(inv, child, case, grant, now)

    async def resend(self, invitation_id: int, actor: Actor) -> InvitationView:
        """A new code and link (the old ones stop working), a new expiry, the lock lifted, a new email.

        The link is no longer bound to a chat. A phone verification stands; a code given in the
        old chat does not (the new code is needed).
        """
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            inv, child, case, grant = await self._one(s, invitation_id, lock=True)
            if inv.response is not None:
                raise InvalidState(f"The invitation was {inv.response} already.", code="already_answered")
            code, code_mac = await self._unused_code(s)
            token = codes.new_link_token()
            inv.code_hmac = code_mac
            inv.token_digest = codes.token_digest(token)
            inv.expires_at = now + self.settings.invitation_ttl
            inv.sent_count += 1
            inv.last_sent_at = now
            inv.bound_chat_id = None
            inv.bound_at = None
            inv.wrong_tries = 0
            inv.locked_at = None
            if inv.verified_by == "code":
                inv.verified_at = None
                inv.verified_by = None
            self._queue_invitation_email(s, inv, child, code, token, now, again=True)
            audit(s, actor, "invitation.resend", at=now, child_id=child.id, subject=f"invitation:{inv.id}")
            return self._view(inv, child, case, grant, now)

    # ------------------------------------------------------------------ the parent's side

    async def open_invitation_link(self, token: str, chat_id: int) -> InvitationCheck:
        """The /start payload of an invitation link. Binds the link to this chat on first use.

        Outcomes: NEEDS_CODE or ALREADY_VERIFIED (go on, with `invitation_id`), or OTHER_CHAT
        (bound to another chat: nothing else is said), USED, EXPIRED, LOCKED, UNKNOWN.
        """
        if not codes.plausible_token(token):
            return InvitationCheck(CheckOutcome.UNKNOWN)
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            inv = await s.scalar(
                select(Invitation).where(Invitation.token_digest == codes.token_digest(token)).with_for_update()
            )
            if inv is None:
                return InvitationCheck(CheckOutcome.UNKNOWN)
            if inv.bound_chat_id is not None and inv.bound_chat_id != chat_id:
                return InvitationCheck(CheckOutcome.OTHER_CHAT)
            refused = self._closed_outcome(inv, now)
            if refused is not None:
                return InvitationCheck(refused, inv.id)
            if inv.bound_chat_id is None:
                inv.bound_chat_id = chat_id
                inv.bound_at = now
            actor = chat_actor(self.portal.secret_key, chat_id)
            audit(s, actor, "invitation.open", at=now, child_id=inv.child_id, subject=f"invitation:{inv.id}")
            if inv.verified_at is not None:
                child = await s.get(Child, inv.child_id)
                return InvitationCheck(
                    CheckOutcome.ALREADY_VERIFIED, inv.id, child_forename=child.forename if child else None
                )
            return InvitationCheck(CheckOutcome.NEEDS_CODE, inv.id, tries_left=self._tries_left(inv))

    async def check_unique_code(self, invitation_id: int, chat_id: int, code: str) -> InvitationCheck:
        """The unique code typed in the chat the link was opened in.

        VERIFIED when right; WRONG with `tries_left`; LOCKED after the last wrong try (until the
        SEND team resends); MALFORMED (not counted) for text that cannot be a code. An invitation
        not opened in this chat is UNKNOWN, whatever the id.
        """
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            inv = await s.scalar(select(Invitation).where(Invitation.id == invitation_id).with_for_update())
            if inv is None or inv.bound_chat_id is None or inv.bound_chat_id != chat_id:
                return InvitationCheck(CheckOutcome.UNKNOWN)
            refused = self._closed_outcome(inv, now)
            if refused is not None:
                return InvitationCheck(refused, inv.id)
            if inv.verified_at is not None:
                child = await s.get(Child, inv.child_id)
                return InvitationCheck(CheckOutcome.ALREADY_VERIFIED, inv.id, child_forename=child.forename if child else None)
            typed = codes.normalise_code(code)
            if typed is None:
                return InvitationCheck(CheckOutcome.MALFORMED, inv.id, tries_left=self._tries_left(inv))
            actor = chat_actor(self.portal.secret_key, chat_id)
            subject = f"invitation:{inv.id}"
            if constant_time_equal(codes.code_hmac(self.portal.secret_key, typed), inv.code_hmac):
                inv.verified_at = now
                inv.verified_by = "code"
                audit(s, actor, "invitation.verify", at=now, child_id=inv.child_id, subject=subject)
                child = await s.get(Child, inv.child_id)
                return InvitationCheck(CheckOutcome.VERIFIED, inv.id, child_forename=child.forename if child else None)
            inv.wrong_tries += 1
            audit(s, actor, "invitation.code_wrong", at=now, child_id=inv.child_id, subject=subject)
            if inv.wrong_tries >= self.settings.invitation_code_max_tries:
                inv.locked_at = now
                audit(s, actor, "invitation.lock", at=now, child_id=inv.child_id, subject=subject)
                return InvitationCheck(CheckOutcome.LOCKED, inv.id, tries_left=0)
            return InvitationCheck(CheckOutcome.WRONG, inv.id, tries_left=self._tries_left(inv))

    async def pending_invitations_for(self, account_id: int, email: str | None = None) -> list[PendingInvitation]:
        """Every invitation awaiting this account's approval ("Invitations awaiting approval").

        `email` defaults to the account's own (confirmed) address; if given, it must be that
        address (anything else lists nothing: a caller cannot widen the search).
        """
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            rows = await self._pending_rows(s, account_id, email, now)
            actor = Actor.parent(account_id)
            for cid in sorted({child.id for _, child in rows}):
                audit(s, actor, "invitation.list_pending", at=now, child_id=cid)
            return [
                PendingInvitation(
                    invitation_id=inv.id,
                    child_id=child.id,
                    child_forename=child.forename,
                    child_surname=child.surname,
                    verified=inv.verified_at is not None,
                    expires_at=inv.expires_at,
                )
                for inv, child in rows
            ]

    async def respond(self, account_id: int, chat_id: int, choices: Mapping[int, bool]) -> RespondResult:
        """The parent's Submit: True accepts an invitation, False declines it. All or nothing.

        The chat must be linked to the account (ChatNotLinked), and every id must be a pending
        invitation of this account (NotYourInvitation: a stale or forged button changes nothing).
        Accepting sets the grant to accepted with this account; declining to declined (the SEND
        team sees it). Either way the link is used up. A confirming email is queued.
        """
        if not choices:
            raise InvalidState("Choose at least one invitation.", code="nothing_chosen")
        try:
            wanted = {int(k): bool(v) for k, v in choices.items()}
        except (TypeError, ValueError):
            raise NotYourInvitation("That invitation is not awaiting your approval.") from None
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            if await active_account_for_chat(s, chat_id) != account_id:
                raise ChatNotLinked("This chat is not linked to the account.")
            pending = {inv.id: (inv, child) for inv, child in await self._pending_rows(s, account_id, None, now, lock=True)}
            strangers = [i for i in wanted if i not in pending]
            if strangers:
                log.warning("account %s answered invitation(s) not awaiting it: %s", account_id, strangers)
                raise NotYourInvitation("That invitation is not awaiting your approval.")
            grants = {
                g.invitation_id: g
                for g in (
                    await s.scalars(
                        select(AccessGrant).where(AccessGrant.invitation_id.in_(list(wanted))).with_for_update()
                    )
                ).all()
            }
            accepted: list[ChildChoice] = []
            declined: list[ChildChoice] = []
            actor = Actor.parent(account_id)
            for inv_id in sorted(wanted):
                inv, child = pending[inv_id]
                grant = grants[inv_id]
                yes = wanted[inv_id]
                inv.response = "accepted" if yes else "declined"
                inv.responded_at = now
                inv.responded_account_id = account_id
                inv.token_used_at = now
                grant.status = inv.response
                grant.account_id = account_id
                grant.responded_at = now
                choice = ChildChoice(inv.id, grant.id, child.id, child.forename)
                (accepted if yes else declined).append(choice)
                audit(
                    s, actor, "invitation.accept" if yes else "invitation.decline",
                    at=now, child_id=child.id, subject=f"invitation:{inv.id}",
                )
            to_addr = await account_email(s, account_id)
            if to_addr:
                subject, body = texts.response_email(
                    accepted=[c.child_forename for c in accepted],
                    declined=[c.child_forename for c in declined],
                    team=self.settings.send_team_name,
                    council=self.portal.settings.product.council_name,
                )
                enqueue_email(s, now=now, to_addr=to_addr, subject=subject, body=body)
            return RespondResult(accepted=accepted, declined=declined)

    # ------------------------------------------------------------------ helpers

    async def _pending_rows(
        self, s: AsyncSession, account_id: int, email: str | None, now: datetime, *, lock: bool = False
    ) -> list[tuple[Invitation, Child]]:
        own_email = await account_email(s, account_id)
        if own_email is None:
            return []
        if email is not None and normalise_email(email) != own_email:
            return []
        chats = await active_chats_for_account(s, account_id)
        mine = Invitation.email == own_email
        if chats:
            mine = or_(mine, and_(Invitation.bound_chat_id.in_(chats), Invitation.verified_at.is_not(None)))
        stmt = (
            select(Invitation, Child)
            .join(Child, Child.id == Invitation.child_id)
            .where(
                Invitation.response.is_(None),
                Invitation.expires_at > now,
                Invitation.locked_at.is_(None),
                mine,
            )
            .order_by(Invitation.id)
        )
        if lock:
            stmt = stmt.with_for_update(of=Invitation)
        return [(inv, child) for inv, child in (await s.execute(stmt)).all()]

    def _closed_outcome(self, inv: Invitation, now: datetime) -> CheckOutcome | None:
        if inv.response is not None or inv.token_used_at is not None:
            return CheckOutcome.USED
        if inv.expires_at <= now:
            return CheckOutcome.EXPIRED
        if inv.locked_at is not None:
            return CheckOutcome.LOCKED
        return None

    def _tries_left(self, inv: Invitation) -> int:
        return max(0, self.settings.invitation_code_max_tries - inv.wrong_tries)

    def _refuse_unless_open(self, inv: Invitation, now: datetime) -> None:
        if inv.response is not None:
            raise InvalidState(f"The invitation was {inv.response} already.", code="already_answered")
        if inv.expires_at <= now:
            raise InvalidState("The invitation has expired. Resend it first.", code="expired")

    async def _unused_code(self, s: AsyncSession) -> tuple[str, str]:
        for _ in range(10):
            code = codes.new_code()
            mac = codes.code_hmac(self.portal.secret_key, code)
            if await s.scalar(select(Invitation.id).where(Invitation.code_hmac == mac)) is None:
                return code, mac
        raise RuntimeError("could not find an unused invitation code")  # pragma: no cover

    def _queue_invitation_email(
        self, s: AsyncSession, inv: Invitation, child: Child, code: str, token: str, now: datetime, *, again: bool
    ) -> None:
        subject, body = texts.invitation_email(
            parent_forename=inv.forename,
            child_forename=child.forename,
            child_surname=child.surname,
            code=codes.display_code(code),
            link=self.settings.deep_link(token),
            expires_at=inv.expires_at,
            team=self.settings.send_team_name,
            council=self.portal.settings.product.council_name,
            again=again,
        )
        enqueue_email(
            s, now=now, to_addr=inv.email, subject=subject, body=body,
            dedupe_key=f"invitation:{inv.id}:{inv.sent_count}",
        )

    @staticmethod
    def _joined():  # noqa: ANN205
        return (
            select(Invitation, Child, Case, AccessGrant)
            .join(Child, Child.id == Invitation.child_id)
            .join(Case, Case.id == Invitation.case_id)
            .join(AccessGrant, AccessGrant.invitation_id == Invitation.id)
        )

    @classmethod
    async def _one(
        cls, s: AsyncSession, invitation_id: int, *, lock: bool = False
    ) -> tuple[Invitation, Child, Case, AccessGrant]:
        """An invitation with its child, case and grant (the invitation locked for a change)."""
        stmt = cls._joined().where(Invitation.id == invitation_id)
        if lock:
            stmt = stmt.with_for_update(of=Invitation)
        row = (await s.execute(stmt)).first()
        if row is None:
            raise NotFound("No such invitation.")
        inv, child, case, grant = row
        return inv, child, case, grant

    @staticmethod
    def _view(inv: Invitation, child: Child, case: Case, grant: AccessGrant, now: datetime) -> InvitationView:
        return InvitationView(
            id=inv.id,
            status=invitation_status(inv, now),
            locked=inv.locked_at is not None,
            case_reference=case.case_reference,
            case_id=case.id,
            child_id=child.id,
            child_forename=child.forename,
            child_surname=child.surname,
            child_date_of_birth=child.date_of_birth,
            parent_email=inv.email,
            parent_forename=inv.forename,
            parent_surname=inv.surname,
            grant_id=grant.id,
            grant_status=grant.status,
            created_at=inv.created_at,
            expires_at=inv.expires_at,
            sent_count=inv.sent_count,
            last_sent_at=inv.last_sent_at,
            verified_at=inv.verified_at,
            verified_by=inv.verified_by,
            responded_at=inv.responded_at,
        )
