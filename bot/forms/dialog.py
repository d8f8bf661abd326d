"""The forms dialogue, assembled from its windows: Actions to Complete and the forms a parent
starts (`start`), one item at a time (`question`, with what the parent sends in `input`), a
list search (`search`), and the review, Submit and what happens next (`review`).

The core is the source of truth. The dialogue keeps only the response id (and the child's) and
asks the core again in every window, showing the item at the response's position (or the
review). Every answer is saved by the core as it is given, so a parent who leaves, or whose bot
restarts, comes back exactly where they were. Only the ticks of a "several choices" question
live in the dialogue until Done (then saved), and the matches of a list search.

FormsSG's class and state names, and the widget ids, are stored with parents' places
(`dialog_state`): they stay as they are.
"""

from __future__ import annotations

from aiogram_dialog import Dialog

from bot.forms.question import item_window
from bot.forms.review import review_windows
from bot.forms.search import search_window
from bot.forms.start import on_start, start_windows


def forms_dialog() -> Dialog:
    return Dialog(*start_windows(), item_window(), search_window(), *review_windows(), on_start=on_start)
