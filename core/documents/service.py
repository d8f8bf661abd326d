"""Documents to View: publishing, listing, delivering and withdrawing letters and plans."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from core.files import FileStore, folder_store
from core.portal import Portal


class DocumentService:
    def __init__(self, portal: Portal, files: FileStore | None = None) -> None:
        self.portal = portal
        self.files = files or folder_store(portal.settings.storage.data_dir)

    @staticmethod
    async def unviewed_for(s: AsyncSession, account_id: int, case_id: int) -> int:
        """The dashboard's "Documents to View (n)": published, not withdrawn, not yet received
        by this carer. One query."""
        raise NotImplementedError
