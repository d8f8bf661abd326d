"""Ask anything in the chat, end to end (issue 17): the real bot over HTTP against the Bot API
stand-in, a real SQLite database. A case question is answered from the asking family's own case
(never another's), a rights question with a quoted passage and its source, an unanswerable one is
declined with "Ask the SEND team" (which starts a New Message with the question filled in), and
"Was this helpful?" is recorded without the question's text. A chat not logged in is told how to
start, as before."""

from __future__ import annotations

from core.models import AskedQuestion
from core.questions import case_intent
from tests.stack import active_parent, rows, seen_by, window


async def request(stack, ref: str, on: str) -> dict:  # noqa: ANN001
    status, case = await stack.api("PATCH", f"/v1/cases/{ref}", {"request_date": on, "requestor": "A parent"})
    assert status == 200, case
    return case


async def test_a_case_question_is_answered_with_that_childs_dates_and_no_other_familys(stack, stand, portal):
    alex = await active_parent(stack, stand)
    bea = await active_parent(stack, stand, "bea.smith@example.org", (("Mia", "CASE-2"),), "Bea")
    sam = await request(stack, "CASE-1", "2026-11-24")
    await request(stack, "CASE-2", "2026-10-01")
    await alex.wait_for(lambda m: "recorded the request" in m.text)

    await alex.send("wen will i get the draft plan??")
    said = await alex.wait_for(lambda m: "Decision to assess due" in m.text)
    assert "Sam Jones" in said.text
    assert "Decision to assess due: 4 Jan 2027 (in 41 days)" in said.text
    assert "Final EHC plan due: 12 Apr 2027" in said.text
    assert "Mia" not in seen_by(alex) and "12 Nov 2026" not in said.text  # Mia's decision date
    assert said.button("SEND Dashboard").callback_data == f"dash:{sam['child_id']}"

    await alex.send("who is sams case worker")
    said = await alex.wait_for(lambda m: "caseworker has not been allocated" in m.text)
    assert "Sam Jones" in said.text

    # Bea asks the same: her own child's dates, overdue, and nothing of Sam's.
    await bea.send("when is the decision for my daughter due")
    said = await bea.wait_for(lambda m: "Decision to assess due" in m.text)
    assert "Mia Jones" in said.text and "Overdue" in said.text
    assert "Sam" not in seen_by(bea)
    assert await rows(portal, AskedQuestion) == []  # case answers need no record


async def test_a_rights_question_is_quoted_with_its_source_and_helpful_is_recorded(stack, stand, portal):
    alex = await active_parent(stack, stand)
    asked = await alex.send("what is a mediation certificat")
    said = await alex.wait_for(lambda m: "Was this helpful?" in m.text)
    assert "certificate within 3 working days" in said.text
    assert "Source: Mediation and the certificate" in said.text
    assert "Open Government Licence" in said.text
    assert said.reply_to_message_id == asked.message_id
    said.button("Ask the SEND team")

    await alex.press(said, "Yes")
    (row,) = await rows(portal, AskedQuestion)
    assert (row.outcome, row.passage_id, row.helpful) == ("answered", "rights_mediation_the_certificate", True)
    assert row.question is None  # EHCP_QUESTION_RETENTION_DAYS is 0: the text is never kept
    await alex.press(said, "No")  # a change of mind: the last answer counts
    assert (await rows(portal, AskedQuestion))[0].helpful is False

    # A forged press (the right id, the wrong key) changes nothing and gets the kind answer.
    await alex.press_data(said, f"ask:{row.id}:forged00:yes")
    await alex.wait_for(lambda m: "no longer works" in m.text)
    assert (await rows(portal, AskedQuestion))[0].helpful is False


async def test_an_unanswerable_question_is_declined_and_ask_the_send_team_fills_it_in(stack, stand, portal):
    alex = await active_parent(stack, stand)
    question = "can you recomend a good plumber in worcester"
    await alex.send(question)
    said = await alex.wait_for(lambda m: "I could not find an answer to that." in m.text)
    assert said.reply_markup.find("Helpful") is None and said.reply_markup.find("Yes") is None
    (row,) = await rows(portal, AskedQuestion)
    assert (row.outcome, row.passage_id, row.question) == ("declined", None, None)

    await alex.press(said, "Ask the SEND team")
    w = await window(alex, "Your question is filled in")
    assert question in w.text and "New Message" in w.text
    await alex.press(w, "Done")
    files = await window(alex, "Files")
    await alex.press(files, "No files")
    preview = await window(alex, "Check your")
    assert question in preview.text
    await alex.press(preview, "Send")
    await alex.wait_for(lambda m: "has been sent to the SEND team" in m.text)
    status, thread = await stack.api("GET", "/v1/cases/CASE-1/messages")
    assert status == 200, thread
    assert any(question in str(m) for m in thread["items"]), thread


async def test_a_chat_not_logged_in_is_still_told_how_to_start(stack, stand):
    eve = stand.user(first_name="Eve")
    await eve.send("/start")
    await eve.wait_for(lambda m: "Main menu" in m.text)
    await eve.send("when will i get the draft plan")
    said = await eve.wait_for(lambda m: "did not understand" in m.text)
    assert "Nothing has been sent" in said.text
    menu = await eve.wait_for(lambda m: "Main menu" in m.text and m.message_id > said.message_id)
    assert menu.reply_markup.find("I already have an account") is not None


def test_case_questions_are_recognised_as_parents_type_them() -> None:
    names = ("Sam",)
    assert case_intent("wen will i get the draft plan", names) == "dates"
    assert case_intent("who is Sam's casewroker", names) == "caseworker"
    assert case_intent("has anyone read my mesage", names) == "messages"
    assert case_intent("any forms i need to fill in", names) == "forms"
    assert case_intent("have i got all my documnets yet", names) == "documents"
    for process in ("what is a final plan", "can i ask for a different school", "i got a letter saying no what now",
                    "how long does the council have to decide"):
        assert case_intent(process, names) is None, process
