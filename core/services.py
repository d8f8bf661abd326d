"""The core's services, built once by one function (no globals) and used by every face alike:
the bot's handlers (as Dispatcher data), the caseworker API (on each request) and the pages."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam

from core.accounts import AccountService
from core.cases.dashboard import DashboardService
from core.cases.service import CaseService
from core.chats import ChatService
from core.documents.service import DocumentService
from core.forms.casework import FormCasework
from core.forms.filling import FormFilling
from core.knowledge import load_kb
from core.messages.service import MessageService
from core.messages.staff import StaffDirectory, StaffGroup
from core.onboarding import AccessService, ChatLinkService, InvitationService
from core.outbox import NoticeStatuses
from core.page_flow import PageFlow
from core.page_links import PageLinks
from core.portal import Portal
from core.questions import Questions
from core.reminders import ReminderPreferences
from core.rights import Topics, facts_for, load_topics


@dataclass
class Services:
    portal: Portal
    accounts: AccountService
    chats: ChatService
    invitations: InvitationService
    access: AccessService
    chat_links: ChatLinkService
    page_links: PageLinks
    page_flow: PageFlow
    dashboard: DashboardService
    reminders: ReminderPreferences
    messages: MessageService
    staff: StaffDirectory
    staff_group: StaffGroup
    documents: DocumentService
    form_filling: FormFilling  # the parent's side: Actions to Complete, answering, Submit
    form_casework: FormCasework  # the SEND team's side: assign, withdraw, submissions
    cases: CaseService
    notice_statuses: NoticeStatuses
    rights: Topics  # the "What can I do?" pages (checked at start; the council's folder added)
    questions: Questions  # Ask anything: the case, the knowledge base (checked at start), or declined

    @classmethod
    def build(cls, portal: Portal) -> Services:
        accounts = AccountService(portal)
        page_links = PageLinks(portal)
        messages = MessageService(portal)
        product = portal.settings.product
        dashboard = DashboardService(portal, counters=[_unread_messages, _documents_to_view, _actions_to_complete])
        kb = load_kb(product.kb_dir, facts=facts_for(None, portal.settings), rights_dir=product.rights_dir)
        return cls(
            portal=portal,
            accounts=accounts,
            chats=ChatService(portal),
            invitations=InvitationService(portal),
            access=AccessService(portal),
            chat_links=ChatLinkService(portal),
            page_links=page_links,
            page_flow=PageFlow(portal, accounts, page_links),
            dashboard=dashboard,
            reminders=ReminderPreferences(portal),
            messages=messages,
            staff=StaffDirectory(portal),
            staff_group=StaffGroup(portal, messages),
            documents=DocumentService(portal),
            form_filling=FormFilling(portal),
            form_casework=FormCasework(portal),
            cases=CaseService(portal),
            notice_statuses=NoticeStatuses(portal),
            rights=load_topics(product.rights_dir),
            questions=Questions(portal, kb, dashboard),
        )


_ACCOUNT, _CASE = bindparam("account_id"), bindparam("case_id")
# The dashboard's "New Messages (n)".
_unread_messages = ("messages", MessageService.unread_query(_ACCOUNT, _CASE))
# The dashboard's "Documents to View (n)": documents this carer has not received yet.
_documents_to_view = ("documents", DocumentService.unviewed_query(_ACCOUNT, _CASE))
# The dashboard's "Actions to Complete (n)": forms asked of this carer, not yet submitted.
_actions_to_complete = ("actions", FormFilling.open_query(_ACCOUNT, _CASE))
