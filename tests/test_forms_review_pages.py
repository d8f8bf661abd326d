"""The review of a long form, a page at a time (each page well within Telegram's limit): ▶️ and
◀️ turn the pages, each page's Change buttons are its own, and after a change the parent comes
back to the page they were on. The form is a council's own (EHCP_FORMS_DIR), started by the
parent from the main menu."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from core.config import Settings
from tests.test_forms_e2e import linked_without_children, window

QUESTIONS = 14
FORM = {
    "id": "long_views",
    "version": 1,
    "title": "Your Views",
    "started_by": "parent",
    "description": "Your views, at length.",
    "steps": [{"name": "Your views", "items": [
        {"id": f"view_{n}", "type": "long_text", "text": f"What is view number {n}?"}
        for n in range(1, QUESTIONS + 1)
    ]}],
}


@pytest.fixture
def settings(data_dir: Path, tmp_path: Path) -> Settings:
    folder = tmp_path / "council-forms"
    folder.mkdir()
    (folder / "long_views.yaml").write_text(yaml.safe_dump(FORM), encoding="utf-8")
    return Settings(
        _env_file=None, data_dir=data_dir, secret_key="test-secret-key-" + "x" * 32, forms_dir=folder
    )


async def test_a_long_review_is_shown_a_page_at_a_time(stack, stand, portal, clock):
    kim = await linked_without_children(stack, stand)
    menu = await window(kim, "not activated access to a child yet")
    await kim.press(menu, "Request an EHC needs assessment")
    start = await window(kim, "An EHC needs assessment is when the council looks")
    await kim.press(start, "Start: Your Views")
    for n in range(1, QUESTIONS + 1):
        await window(kim, f"Question {n} of {QUESTIONS}\n\nWhat is view number {n}?")
        await kim.send(f"View {n}: " + "because " * 35)

    first = await window(kim, "Please check your answers.")
    assert "Page 1 of 2." in first.text and "(continued)" not in first.text
    assert len(first.text) < 4096
    assert [b.text for b in first.buttons if b.text in ("◀️", "▶️")] == ["▶️"]
    on_first = [b.text for b in first.buttons if b.text.startswith("✏️ Change: ")]
    assert on_first[0] == "✏️ Change: What is view number 1?"

    await kim.press(first, "▶️")
    second = await window(kim, "Page 2 of 2.")
    assert "Please check your answers. (continued)" in second.text
    assert [b.text for b in second.buttons if b.text in ("◀️", "▶️")] == ["◀️"]
    on_second = [b.text for b in second.buttons if b.text.startswith("✏️ Change: ")]
    assert on_second[-1] == "✏️ Change: What is view number 14?"
    assert not set(on_first) & set(on_second)

    # A change from the second page comes back to the second page.
    await kim.press(second, "Change: What is view number 14?")
    await window(kim, "Your answer so far: View 14")
    await kim.send("View 14, changed.")
    back = await window(kim, "Page 2 of 2.")
    assert "View 14, changed." in back.text

    await kim.press(back, "◀️")
    again = await window(kim, "Page 1 of 2.")
    assert "What is view number 1?" in again.text
