"""Buttons under a new-document notice (being built)."""

from __future__ import annotations

from aiogram import Router


def documents_router() -> Router:
    return Router(name="documents")
