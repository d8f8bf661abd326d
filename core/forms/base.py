"""What both sides of forms stand on (the parent's, `core.forms.filling`, and the SEND team's,
`core.forms.casework`): the definitions, read and checked once per process, the file store,
FormRefused, and the small lookups both make inside a transaction."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from core.errors import Refused
from core.files import FileStore, folder_store, safe_filename
from core.forms.form import FormDefinition
from core.forms.loading import load_forms
from core.portal import Portal

MAX_ID = 2**63 - 1
_LOADED: dict[Path | None, dict[str, FormDefinition]] = {}  # form definitions by forms_dir


class FormRefused(Refused):
    """A step that cannot be taken (`message` for the parent or the API; `code` for the API):
    submitting with required answers missing, assigning an unknown form, a case with no carer."""


class FormsBase:
    """A forms service: the portal, the file store (answers' files and PDFs) and the form
    definitions (tests may give their own)."""

    def __init__(
        self, portal: Portal, files: FileStore | None = None, forms: dict[str, FormDefinition] | None = None
    ) -> None:
        self.portal = portal
        self.files = files or folder_store(portal.settings.storage.data_dir)
        self._forms = forms

    @property
    def forms(self) -> dict[str, FormDefinition]:
        """The form definitions by id (loaded, and checked, on first use)."""
        if self._forms is None:
            folder = self.portal.settings.product.forms_dir
            if folder not in _LOADED:  # read once per process (the app checks them at start)
                _LOADED[folder] = load_forms(folder)
            self._forms = _LOADED[folder]
        return self._forms


def valid_id(value: Any) -> bool:
    return isinstance(value, int) and 0 < value <= MAX_ID


def pdf_name(title: str, child: str | None) -> str:
    return safe_filename(f"{title} - {child}" if child else title, "application/pdf")


async def account_name(s: AsyncSession, account_id: int) -> str:
    from core.accounts.models import Account

    acc = await s.get(Account, account_id)
    return f"{acc.forename} {acc.surname}".strip() if acc else "A parent"
