"""Buttons under a form notice (being built)."""

from __future__ import annotations

from aiogram import Router


def forms_router() -> Router:
    return Router(name="forms")
