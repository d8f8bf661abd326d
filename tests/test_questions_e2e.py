"""Ask anything in the chat, end to end (issue 17): the real bot over HTTP against the Bot API
stand-in, a real SQLite database. A case question is answered from the asking family's own case
(never another's), a rights question with a quoted passage and its source, an unanswerable one is
declined with "Ask the SEND team" (which starts a New Message with the question filled in), and
"Was this helpful?" is recorded without the question's text. A case answer's button opens that
screen for that child; a parent of two asking about one by name hears about that one only. A kept
question's text is cleared by the daily housekeeping once older than EHCP_QUESTION_RETENTION_DAYS,
whether or not anyone asks again (the tests' clock moves; nothing sleeps). A chat not logged in
is told how to start, as before."""

from __future__ import annotations

from datetime import timedelta

from core.models import AskedQuestion
from core.questions import case_intent, clear_old_question_texts
from notifications.scheduler import daily_cleanup
from tests.stack import active_parent, rows, seen_by, window
from tests.test_documents_e2e import publish
from tests.test_forms_e2e import assign
from tests.test_messages_e2e import account_of, caseworker_sends

TWO = (("Sam", "CASE-1"), ("Mia", "CASE-2"))


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


async def test_a_parent_of_two_asking_about_one_by_name_gets_only_that_childs_dates(stack, stand):
    alex = await active_parent(stack, stand, children=TWO)
    await request(stack, "CASE-1", "2026-11-24")
    await request(stack, "CASE-2", "2026-10-01")
    await alex.wait_for(lambda m: "recorded the request" in m.text and "Mia" in m.text)

    asked = await alex.send("when is mias final plan due")
    said = await alex.wait_for(lambda m: "Decision to assess due" in m.text and m.message_id > asked.message_id)
    assert "Mia Jones" in said.text and "Sam" not in said.text
    assert "Decision to assess due: 11 Nov 2026" in said.text and "Overdue" in said.text
    assert "Final EHC plan due: 17 Feb 2027" in said.text
    await alex.send("who is sams case worker")  # the next answer comes after any other for Mia
    await alex.wait_for(lambda m: "caseworker has not been allocated" in m.text and "Sam Jones" in m.text)
    answers = [m for m in alex.messages if m.message_id > asked.message_id and "Decision to assess due" in m.text]
    assert answers == [said]  # one answer, Mia's: none for Sam

    # Asked about neither by name: one answer for each child, each with its own dates.
    mark = (await alex.send("wen will i get the draft plan")).message_id
    await alex.wait_until(lambda: len([m for m in alex.messages if m.message_id > mark
                                       and "Decision to assess due" in m.text]) == 2, what="two answers")
    both = [m for m in alex.messages if m.message_id > mark and "Decision to assess due" in m.text]
    assert {("Sam Jones" in m.text, "Mia Jones" in m.text) for m in both} == {(True, False), (False, True)}
    sam = next(m for m in both if "Sam Jones" in m.text)
    assert "4 Jan 2027" in sam.text and "11 Nov 2026" not in sam.text


async def test_a_case_answers_button_opens_that_screen_for_the_child_asked_about(stack, stand, portal):
    alex = await active_parent(stack, stand, children=TWO)

    # Messages: Sent Items (and the Inbox, where a new message waits), Mia's, not Sam's.
    await caseworker_sends(stack, await account_of(portal, alex), subject="Your assessment",
                           text="We have your request.", ref="CASE-2")
    await alex.wait_for(lambda m: "Your assessment" in m.text or "new message" in m.text.lower())
    asked = await alex.send("has anyone read my message about mia")
    said = await alex.wait_for(lambda m: "You have not sent a message" in m.text and m.message_id > asked.message_id)
    assert "Mia Jones" in said.text and "1 new message in your Inbox" in said.text
    await alex.press(said, "Sent Items")
    await window(alex, "Mia Jones's Sent Items", after=said.message_id)
    asked = await alex.send("any new mesages for mia")  # a pressed answer's buttons are gone: ask again
    said = await alex.wait_for(lambda m: "1 new message in your Inbox" in m.text and m.message_id > asked.message_id)
    await alex.press(said, "Inbox")
    inbox = await window(alex, "Mia Jones's Inbox", after=said.message_id)
    assert "1 message" in inbox.text and any("Your assessment" in b.text for b in inbox.reply_markup.buttons)

    # Forms: Actions to Complete for Mia.
    await assign(stack, "CASE-2")
    await alex.wait_for(lambda m: "fill in the" in m.text and m.reply_markup is not None)
    asked = await alex.send("do i need to fill in any forms for mia")
    said = await alex.wait_for(lambda m: "waiting for you in Actions to Complete" in m.text
                               and m.message_id > asked.message_id)
    assert "Mia Jones" in said.text and "1 form is waiting" in said.text
    await alex.press(said, "Actions to Complete")
    await window(alex, "Actions to Complete for Mia", after=said.message_id)

    # Documents: Documents to View for Mia.
    await publish(stack, "Educational psychologist's report", ref="CASE-2")
    await alex.wait_for(lambda m: "psychologist" in m.text)
    asked = await alex.send("have i got all mias documents yet")
    said = await alex.wait_for(lambda m: "not been received yet" in m.text and m.message_id > asked.message_id)
    assert "Mia Jones" in said.text and "1 document has not been received yet" in said.text
    await alex.press(said, "Documents to View")
    shown = await window(alex, "Documents to View", after=said.message_id)
    assert "for Mia" in shown.text and "psychologist" in shown.text


async def test_a_kept_question_text_is_cleared_after_the_set_days_even_if_nobody_asks_again(stack, stand, portal,
                                                                                            clock):
    portal.settings.product.question_retention_days = 3
    alex = await active_parent(stack, stand)
    await alex.send("what is a mediation certificat")
    await alex.wait_for(lambda m: "Was this helpful?" in m.text)
    (row,) = await rows(portal, AskedQuestion)
    assert row.question == "what is a mediation certificat"
    asked_at = clock.now()

    # Two days on, nobody has asked anything: still kept (it is younger than 3 days).
    clock.advance(days=2)
    assert await clear_old_question_texts(portal) == 0
    assert (await rows(portal, AskedQuestion))[0].question == "what is a mediation certificat"
    # The daily housekeeping clears it a day ahead, so it never waits past 3 days for the next run.
    clock.advance(hours=1)
    await daily_cleanup(portal)
    (row,) = await rows(portal, AskedQuestion)
    assert row.question is None
    assert (row.outcome, row.passage_id) == ("answered", "rights_mediation_the_certificate")  # the rest stays
    assert clock.now() - asked_at < timedelta(days=3)

    # Exactly: older than the setting is cleared, younger is not.
    portal.settings.product.question_retention_days = 1
    await alex.send("can i apeal if they say no")
    await alex.wait_for(lambda m: "Was this helpful?" in m.text)
    clock.advance(hours=23)
    assert await clear_old_question_texts(portal) == 0
    clock.advance(hours=2)
    assert await clear_old_question_texts(portal) == 1
    assert [r.question for r in await rows(portal, AskedQuestion)] == [None, None]

    # With 0 days no text is ever stored, and the housekeeping clears any left from before.
    portal.settings.product.question_retention_days = 0
    await alex.send("what is sendiass")
    await alex.wait_until(lambda: len([m for m in alex.messages if "Was this helpful?" in m.text]) == 3,
                          what="the third answer")
    await daily_cleanup(portal)
    assert [r.question for r in await rows(portal, AskedQuestion)] == [None, None, None]


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
