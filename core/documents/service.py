"""Documents to View (PRODUCT.md journey 6): the SEND team publishes letters and plans for a
case; every carer with active access to the child is told and can receive the file in the chat.

The API side takes an `actor`; the chat side names the chat, and the core works out the account
and checks its active access to the document's child every time, so a document id from a button
(crafted or stale) is never trusted. `NotFound` never says whether a document exists; only a
carer who may see the child is told that a document was withdrawn (`Withdrawn`). Files are kept
content-addressed in core.files storage and served only after that check. Publishing and
withdrawing write the carers' notices in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.audit import Actor, audit
from core.clock import london_today
from core.documents.models import Document, DocumentDelivery
from core.documents.notices import DocumentPublished, DocumentWithdrawn
from core.errors import NotFound, Refused
from core.files import FileRefused, FileStore, check_upload, folder_store, safe_filename
from core.notices import Recipient
from core.onboarding._common import active_account_for_chat, case_by_reference, has_active_access
from core.onboarding.models import AccessGrant, Case, ChatLink, Child
from core.portal import Portal

PAGE_SIZE = 5
MAX_DESCRIPTION = 300


class DocumentRefused(Refused):
    """What the caseworker is told, plainly; `code` for the API."""


class Withdrawn(NotFound):
    """The document was withdrawn. Only raised to someone who may see the child."""

    def __init__(self, child_id: int) -> None:
        super().__init__("withdrawn")
        self.child_id = child_id


@dataclass(frozen=True, slots=True)
class DocumentView:
    id: int
    case_id: int
    case_reference: str
    child_id: int
    child_forename: str
    description: str
    document_date: date
    published_at: datetime
    published_by: str
    sha256: str
    filename: str
    mime: str
    size: int
    telegram_file_id: str | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdraw_reason: str | None
    received: bool = False  # chat side: this carer has had it in a chat


@dataclass(frozen=True, slots=True)
class DocumentPage:
    child_id: int
    child_forename: str
    child_surname: str
    items: list[DocumentView]
    page: int  # 0-based
    pages: int
    total: int
    per_page: int


@dataclass(frozen=True, slots=True)
class DeliveryView:
    id: int
    document_id: int
    account_id: int
    carer_name: str
    chat_id: int
    delivered_at: datetime


def check_description(description: str) -> str:
    text = " ".join((description or "").split())
    if not text:
        raise DocumentRefused("Please give the document a description.", "no_description")
    if len(text) > MAX_DESCRIPTION:
        raise DocumentRefused(
            f"The description can be up to {MAX_DESCRIPTION} characters.", "description_too_long"
        )
    return text


class DocumentService:
    def __init__(self, portal: Portal, files: FileStore | None = None) -> None:
        self.portal = portal
        self.files = files or folder_store(portal.settings.storage.data_dir)

    # ------------------------------------------------------------------ the SEND team's side

    async def publish(
        self,
        actor: Actor,
        case_reference: str,
        *,
        data: bytes,
        filename: str | None,
        mime: str | None,
        description: str,
        document_date: date,
    ) -> DocumentView:
        """Publish a document for a case: the file is checked (FileRefused) and stored, and every
        carer with active access to the child is told, in the same transaction."""
        description = check_description(description)
        now = self.portal.clock.now()
        if document_date > london_today(now) + timedelta(days=1):
            raise DocumentRefused("The document date cannot be in the future.", "future_date")
        kind = check_upload(data, mime, filename)
        async with self.portal.db() as s, s.begin():
            case = await case_by_reference(s, case_reference)
            digest = await self.files.put(data)
            child = await s.get(Child, case.child_id)
            doc = Document(
                case_id=case.id, child_id=case.child_id, description=description,
                document_date=document_date, published_at=now, published_by=actor.id[:100],
                sha256=digest, filename=safe_filename(filename, kind), mime=kind, size=len(data),
            )
            s.add(doc)
            await s.flush()
            audit(s, actor, "document.publish", at=now, child_id=case.child_id, subject=f"document:{doc.id}")
            await self.portal.events.publish(s, DocumentPublished(
                at=now, child_id=child.id,
                recipients=tuple(Recipient(a, f"document:{doc.id}") for a in await _carers(s, case.child_id)),
                document_id=doc.id, child_forename=child.forename, description=description,
                document_date=document_date,
            ))
            return _view(doc, case, child)

    async def withdraw(self, actor: Actor, document_id: int, reason: str | None = None) -> DocumentView:
        """Take a document out of Documents to View at once and tell each carer who could see
        it. Withdrawing again changes nothing and tells nobody again."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            doc, case, child = await _document(s, document_id)
            if doc.withdrawn_at is not None:
                return _view(doc, case, child)
            doc.withdrawn_at = now
            doc.withdrawn_by = actor.id[:100]
            doc.withdraw_reason = (" ".join(reason.split())[:300] or None) if reason else None
            audit(s, actor, "document.withdraw", at=now, child_id=doc.child_id, subject=f"document:{doc.id}")
            for account_id in await _carers(s, doc.child_id):
                await self.portal.events.publish(s, DocumentWithdrawn(
                    at=now, child_id=child.id, recipients=(Recipient(account_id, f"document-withdrawn:{doc.id}"),),
                    document_id=doc.id, child_forename=child.forename, description=doc.description,
                    published_at=doc.published_at, received=await _received(s, account_id, doc.id),
                ))
            return _view(doc, case, child)

    async def list_for_case(
        self, actor: Actor, case_reference: str, include_withdrawn: bool = True
    ) -> list[DocumentView]:
        """A case's documents, newest first."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            case = await case_by_reference(s, case_reference)
            child = await s.get(Child, case.child_id)
            stmt = select(Document).where(Document.case_id == case.id)
            if not include_withdrawn:
                stmt = stmt.where(Document.withdrawn_at.is_(None))
            rows = (await s.scalars(stmt.order_by(Document.published_at.desc(), Document.id.desc()))).all()
            audit(s, actor, "document.list", at=now, child_id=case.child_id)
            return [_view(d, case, child) for d in rows]

    async def get_for_team(self, actor: Actor, document_id: int) -> DocumentView:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            doc, case, child = await _document(s, document_id)
            audit(s, actor, "document.read", at=now, child_id=doc.child_id, subject=f"document:{doc.id}")
            return _view(doc, case, child)

    async def file_for_team(self, actor: Actor, document_id: int) -> tuple[DocumentView, bytes]:
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            doc, case, child = await _document(s, document_id)
            audit(s, actor, "document.download", at=now, child_id=doc.child_id, subject=f"document:{doc.id}")
            view = _view(doc, case, child)
        return view, await self.files.get(view.sha256)

    async def deliveries(self, actor: Actor, document_id: int) -> list[DeliveryView]:
        """Who received the document in a chat, when, and in which chat (oldest first)."""
        from core.accounts.models import Account

        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            doc, _case, _child = await _document(s, document_id)
            rows = (
                await s.execute(
                    select(DocumentDelivery, Account.forename, Account.surname)
                    .outerjoin(Account, Account.id == DocumentDelivery.account_id)
                    .where(DocumentDelivery.document_id == doc.id)
                    .order_by(DocumentDelivery.id)
                )
            ).all()
            audit(s, actor, "document.deliveries", at=now, child_id=doc.child_id, subject=f"document:{doc.id}")
            return [
                DeliveryView(d.id, d.document_id, d.account_id, f"{fore or ''} {sur or ''}".strip(), d.chat_id,
                             d.delivered_at)
                for d, fore, sur in rows
            ]

    # ------------------------------------------------------------------ the parent's side

    async def page(
        self, chat_id: int, child_id: int | None, page: int = 0, per_page: int = PAGE_SIZE
    ) -> DocumentPage:
        """Documents to View for a child (None: the chat's chosen child, or its only one),
        newest first, a page at a time; each says whether this carer has received it."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id = await active_account_for_chat(s, chat_id)
            if account_id is None:
                raise NotFound("no such child")
            if child_id is None:
                child_id = await _default_child(s, chat_id, account_id)
            if child_id is None or not await has_active_access(s, account_id, child_id):
                raise NotFound("no such child")
            child = await s.get(Child, child_id)
            if child is None:
                raise NotFound("no such child")
            where = (Document.child_id == child_id, Document.withdrawn_at.is_(None))
            total = await s.scalar(select(func.count()).select_from(Document).where(*where)) or 0
            pages = max(1, -(-total // per_page))
            page = min(max(0, page), pages - 1)
            got = exists().where(DocumentDelivery.document_id == Document.id, DocumentDelivery.account_id == account_id)
            rows = (
                await s.execute(
                    select(Document, Case, got.label("received"))
                    .join(Case, Case.id == Document.case_id)
                    .where(*where)
                    .order_by(Document.published_at.desc(), Document.id.desc())
                    .offset(page * per_page)
                    .limit(per_page)
                )
            ).all()
            audit(s, Actor.parent(account_id), "document.list", at=now, child_id=child_id)
            items = [_view(d, c, child, received=bool(r)) for d, c, r in rows]
            return DocumentPage(child.id, child.forename, child.surname, items, page, pages, total, per_page)

    async def deliver(
        self, chat_id: int, document_id: int, *, with_bytes: bool = False
    ) -> tuple[DocumentView, bytes | None]:
        """A document this chat may receive, and its bytes when Telegram has no copy of it yet
        (or `with_bytes`, when the remembered copy could not be used). NotFound for another
        family's document; Withdrawn for one of this family's that was withdrawn."""
        async with self.portal.db() as s, s.begin():
            account_id, doc, case, child = await self._own(s, chat_id, document_id)
            if doc.withdrawn_at is not None:
                raise Withdrawn(doc.child_id)
            view = _view(doc, case, child, received=await _received(s, account_id, doc.id))
        if view.telegram_file_id and not with_bytes:
            return view, None
        return view, await self.files.get(view.sha256)

    async def record_delivery(self, chat_id: int, document_id: int, file_id: str | None) -> None:
        """The file reached the chat: a delivery row, an audit entry, and Telegram's id for the
        file remembered so it is not uploaded again."""
        now = self.portal.clock.now()
        async with self.portal.db() as s, s.begin():
            account_id, doc, _case, _child = await self._own(s, chat_id, document_id)
            s.add(DocumentDelivery(document_id=doc.id, account_id=account_id, chat_id=chat_id, delivered_at=now))
            if file_id and doc.telegram_file_id != file_id:
                doc.telegram_file_id = file_id[:200]
            audit(s, Actor.parent(account_id), "document.deliver", at=now, child_id=doc.child_id,
                  subject=f"document:{doc.id}")

    @staticmethod
    async def unviewed_for(s: AsyncSession, account_id: int, case_id: int) -> int:
        """The dashboard's "Documents to View (n)": published, not withdrawn, not yet received
        by this carer. One query."""
        return await s.scalar(DocumentService.unviewed_query(account_id, case_id)) or 0

    @staticmethod
    def unviewed_query(account_id: Any, case_id: Any) -> Select[tuple[int]]:
        """(`account_id`, `case_id`: values, or bound parameters for a statement built once.)"""
        got = exists().where(DocumentDelivery.document_id == Document.id, DocumentDelivery.account_id == account_id)
        return select(func.count()).select_from(Document).where(
            Document.case_id == case_id, Document.withdrawn_at.is_(None), ~got
        )

    # ------------------------------------------------------------------ inside a transaction

    @staticmethod
    async def _own(s: AsyncSession, chat_id: int, document_id: int) -> tuple[int, Document, Case, Child]:
        account_id = await active_account_for_chat(s, chat_id)
        doc = await s.get(Document, document_id) if account_id is not None else None
        if doc is None or not await has_active_access(s, account_id, doc.child_id):
            raise NotFound("no such document")
        return account_id, doc, await s.get(Case, doc.case_id), await s.get(Child, doc.child_id)


async def _document(s: AsyncSession, document_id: int) -> tuple[Document, Case, Child]:
    doc = await s.get(Document, document_id)
    if doc is None:
        raise NotFound("no such document")
    return doc, await s.get(Case, doc.case_id), await s.get(Child, doc.child_id)


async def _carers(s: AsyncSession, child_id: int) -> list[int]:
    rows = await s.scalars(
        select(AccessGrant.account_id)
        .where(AccessGrant.child_id == child_id, AccessGrant.status == "active")
        .distinct()
        .order_by(AccessGrant.account_id)
    )
    return list(rows.all())


async def _received(s: AsyncSession, account_id: int, document_id: int) -> bool:
    found = await s.scalar(
        select(DocumentDelivery.id)
        .where(DocumentDelivery.account_id == account_id, DocumentDelivery.document_id == document_id)
        .limit(1)
    )
    return found is not None


async def _default_child(s: AsyncSession, chat_id: int, account_id: int) -> int | None:
    """The child this chat chose last (if still allowed), else the account's only child."""
    chosen = await s.scalar(select(ChatLink.selected_child_id).where(ChatLink.active_chat_id == chat_id))
    if chosen is not None and await has_active_access(s, account_id, chosen):
        return chosen
    children = (
        await s.scalars(
            select(AccessGrant.child_id)
            .where(AccessGrant.account_id == account_id, AccessGrant.status == "active")
            .distinct()
        )
    ).all()
    return children[0] if len(children) == 1 else None


def _view(doc: Document, case: Case | None, child: Child | None, *, received: bool = False) -> DocumentView:
    return DocumentView(
        id=doc.id, case_id=doc.case_id, case_reference=case.case_reference if case else "",
        child_id=doc.child_id, child_forename=child.forename if child else "",
        description=doc.description, document_date=doc.document_date, published_at=doc.published_at,
        published_by=doc.published_by, sha256=doc.sha256, filename=doc.filename, mime=doc.mime,
        size=doc.size, telegram_file_id=doc.telegram_file_id, withdrawn_at=doc.withdrawn_at,
        withdrawn_by=doc.withdrawn_by, withdraw_reason=doc.withdraw_reason, received=received,
    )


__all__ = [
    "PAGE_SIZE",
    "DeliveryView",
    "DocumentPage",
    "DocumentRefused",
    "DocumentService",
    "DocumentView",
    "FileRefused",
    "NotFound",
    "Withdrawn",
]
