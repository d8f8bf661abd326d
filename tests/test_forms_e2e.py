"""Forms in the chat, end to end (issue 6; the guide's "Actions to Complete").

The real bot talks to the Bot API stand-in; the caseworker side is the HTTP API. The SEND team
asks for the Parental Preference Form; the parent fills it in one question at a time (a wrong
answer of every type gets a clear answer and the question again), leaves, the bot restarts, they
come back exactly where they were, change an answer from the review, ask for a PDF and submit;
the caseworker reads the submission and its PDF. A parent with no case asks for an EHC needs
assessment in the chat and the dashboard starts at once. Crafted buttons open nothing of another
family's.
"""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from tests.stack import (
    active_parent,
    create_account,
    live_window,
    seen_by,
    six_digit_code,
    submit_login,
    window,
)

PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
CHOOSE = "Please choose one of the buttons below."
TYPE = "Please type your answer."
NOT_AVAILABLE = "That form is not available to you."
PPF = "Parental Preference Form"


# ------------------------------------------------------------------ what the parent sees


def top(user) -> int:  # noqa: ANN001
    """The newest message id in the chat (the parent's or the bot's)."""
    ids = [m.message_id for m in user.messages] + [m.message_id for m in user.user_messages]
    return max(ids, default=0)


async def wrong(user, act, refusal: str, question: str):  # noqa: ANN001, ANN201
    """Something wrong sent or pressed: a plain answer saying what is wanted, then the same
    question again, as a new window below it (its progress line and text are `question`)."""
    mark = top(user)
    await act
    kind = await user.wait_for(
        lambda m: m.message_id > mark and refusal in m.text, include_consumed=True
    )
    assert kind.reply_markup is None, kind.text
    return await window(user, question, after=kind.message_id)


async def press_and_see(user, msg, label: str, part: str):  # noqa: ANN001, ANN201
    """Press a button; the window (edited in place, or a new one) then shows `part`."""
    await user.press(msg, label)
    return await window(user, part)


def header(step: int, name: str, q: int | None = None, of: int | None = None) -> str:
    line = f"{PPF}\nStep {step} of 6: {name}"
    return line + (f" · Question {q} of {of}" if q is not None else "")


def forged(msg, label: str, value: str) -> str:  # noqa: ANN001
    """A list button's callback data with its item replaced: a crafted button."""
    return msg.button(label).callback_data.rsplit(":", 1)[0] + f":{value}"


def pdf_text(data: bytes) -> str:
    """The PDF's text without spaces, its running header and footer taken off each page (so an
    answer that runs over a page break reads whole)."""
    assert data.startswith(b"%PDF")
    out = []
    for i, page in enumerate(PdfReader(io.BytesIO(data)).pages):
        lines = page.extract_text().splitlines()
        if lines and re.search(r"Page \d+ of \d+$", lines[-1]):
            lines = lines[:-1]
        if i and lines:
            lines = lines[1:]  # the council's name, on every page after the first
        out.append("".join("".join(lines).split()))
    return "".join(out)


def squash(text: str) -> str:
    return "".join(text.split())


async def assign(stack, ref: str = "CASE-1", due: str | None = "2026-12-08") -> dict:  # noqa: ANN001
    status, a = await stack.api(
        "POST", f"/v1/cases/{ref}/forms", {"form_id": "parental_preference", "due_date": due}
    )
    assert status == 201, a
    return a


async def notice_of(user, title: str = PPF):  # noqa: ANN001, ANN201
    return await user.wait_for(
        lambda m: f"fill in the {title}" in m.text and m.reply_markup is not None
    )


async def save_and_close(user, question: str) -> int:  # noqa: ANN001
    """"Save and close" on the window with `question`; the newest message id before the press."""
    w = await window(user, question)
    mark = top(user)
    await user.press(w, "Save and close")
    return mark


async def submit(user, confirm):  # noqa: ANN001, ANN201
    """Submit on the last question ("Have you entered all the information...?"): the thanks and
    the copy (a PDF) that follow it."""
    mark = top(user)
    await user.press(confirm, "Submit")
    thanks = await user.wait_for(lambda m: m.message_id > mark and "Thank you" in m.text, include_consumed=True)
    copy = await user.wait_for(lambda m: m.message_id > thanks.message_id and m.document is not None)
    return thanks, copy


async def open_actions(user, child: str = "Sam", count: int | None = None):  # noqa: ANN001, ANN201
    """/dashboard, then Actions to Complete: the list."""
    typed = await user.send("/dashboard")
    dash = await window(user, f"SEND Dashboard: {child}", after=typed.message_id)
    label = "Actions to Complete" if count is None else f"Actions to Complete ({count})"
    await user.press(dash, label)
    return await window(user, f"Actions to Complete for {child}")


# ------------------------------------------------------------------ the Parental Preference Form


async def test_a_parent_fills_in_the_parental_preference_form_and_the_caseworker_reads_it(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    assignment = await assign(stack)
    assert assignment["due_date"] == "2026-12-08" and assignment["title"] == PPF

    # The notice, with its button.
    notice = await notice_of(alex)
    assert "Please complete it by 8 Dec 2026." in notice.text
    assert notice.button("Open the form").callback_data == f"form:{assignment['id']}:open"
    await alex.press(notice, "Open the form")

    # Step 1: a guidance page first. A typed word: the buttons, please.
    intro = await window(alex, header(1, PPF))
    assert "About this form" in intro.text and "There are six steps" in intro.text
    assert [b.text for b in intro.buttons][:1] == ["Next ➡️"]
    intro = await wrong(alex, alex.send("ok"), CHOOSE, header(1, PPF) + "\n\nAbout this form")
    await alex.press(intro, "Next")

    # text: a photo is not an answer; too long is refused by the core's rule.
    q = header(1, PPF, 1, 4) + "\n\nWhat is your full name?"
    w = await window(alex, q)
    assert "Type your answer below." in w.text
    assert {"⬅️ Back", "📄 Create PDF", "💾 Save and close"} <= {b.text for b in w.buttons}
    await wrong(alex, alex.send_photo(PNG), TYPE, q)
    await wrong(
        alex,
        alex.send("A" * 101),
        "That is too long: please keep it to 100 characters or fewer (yours has 101).",
        q,
    )
    await alex.send("Alex Jones")

    # one choice: a typed word, and a crafted button for an option not offered.
    q = header(1, PPF, 2, 4) + "\n\nWhat is your relationship to the child or young person?"
    w = await window(alex, q)
    assert [b.text for b in w.buttons][:6] == [
        "Mother", "Father", "Carer or guardian", "Foster carer", "I am the young person", "Other",
    ]
    w = await wrong(alex, alex.send("granny"), CHOOSE, q)
    w = await wrong(
        alex, alex.press_data(w, forged(w, "Mother", "aunt")), "Please choose one of the buttons", q
    )
    await alex.press(w, "Mother")

    # phone and email: checked, and the question again.
    q = header(1, PPF, 3, 4) + "\n\nWhat is the best phone number to reach you on?"
    await window(alex, q)
    await wrong(alex, alex.send("12345"), "Please send a UK phone number", q)
    await alex.send("07700 900123")
    q = header(1, PPF, 4, 4) + "\n\nWhat is your email address?"
    await window(alex, q)
    await wrong(alex, alex.send("not-an-email"), "That email address does not look right", q)
    await alex.send("alex@example.org")

    # Step 2: guidance pages. Back once: the email question, with the answer kept.
    g = await window(alex, header(2, "Parental Preference Guidance") + "\n\nWhat a preference is")
    back = await press_and_see(alex, g, "Back", "What is your email address?")
    assert "Your answer so far: alex@example.org" in back.text
    g = await press_and_see(alex, back, "keep this answer", "What a preference is")
    g = await press_and_see(alex, g, "Next", "Your right to ask for a school")
    g = await press_and_see(alex, g, "Next", "When to tell us")
    # Step 3
    g = await press_and_see(
        alex, g, "Next", header(3, "Parental Guidance Continued") + "\n\nIndependent"
    )
    g = await press_and_see(alex, g, "Next", "What happens next")
    await alex.press(g, "Next")

    # yes/no: a typed word.
    q = header(3, "Parental Guidance Continued", 1, 1) + "\n\nHave you read the guidance?"
    w = await window(alex, q)
    assert [b.text for b in w.buttons][:2] == ["Yes", "No"]
    w = await wrong(alex, alex.send("maybe"), CHOOSE, q)
    await alex.press(w, "Yes")

    # Step 4. A list: found by typing part of a name. A photo, then no match, then a match.
    q = header(4, PPF, 1, 6) + "\n\nWhich school or college is your first preference?"
    w = await window(alex, q)
    assert "Type part of the name" in w.text
    await wrong(alex, alex.send_photo(PNG), TYPE, q)
    typed = await alex.send("zzqx")
    found = await window(alex, "Nothing on the list matches “zzqx”", after=typed.message_id)
    w = await press_and_see(alex, found, "Search again", q)
    typed = await alex.send("oak")
    found = await window(alex, "These match “oak”", after=typed.message_id)
    shown = [b.text for b in found.buttons]
    assert shown[:3] == ["Oakfield Primary School", "Oakwood Academy", "Oakwood Infant School"]
    assert "🔎 Search again" in shown and "✏️ Not on the list: use “oak”" in shown
    # A crafted button for an entry that was not offered.
    answer = await alex.press_data(found, forged(found, "Oakwood Academy", "7"))
    assert answer.text == CHOOSE and answer.show_alert
    await alex.press(found, "Oakfield Primary School")

    # long text: too short is refused; a long one (Telegram's near-limit message) is taken whole.
    q = header(4, PPF, 2, 6) + "\n\nWhy is this school or college right for your child?"
    await window(alex, q)
    await wrong(alex, alex.send("ok"), "Please write a little more: at least 3 characters.", q)
    reasons = " ".join(f"Reason{i} she needs a small calm class near home." for i in range(83))
    assert 4000 < len(reasons) <= 4096
    await alex.send(reasons)
    q = header(4, PPF, 3, 6) + "\n\nWould you like to name a second preference?"
    await alex.press(await window(alex, q), "No")

    # She leaves here ("Save and close"), on question 4 of step 4.
    here = header(4, PPF, 4, 6) + "\n\nWhat type of setting do you think your child needs?"
    mark = await save_and_close(alex, here)
    await alex.wait_for(
        lambda m: m.message_id > mark
        and m.text == "Your answers are saved. You can carry on any time from Actions to Complete.",
        include_consumed=True,
    )
    listed = await window(alex, "Actions to Complete for Sam")
    assert f"{PPF}\nDue 8 Dec 2026\nStarted: 8 answers saved" in listed.text

    # The bot restarts; days later she comes back through the dashboard.
    await stack.bot.restart()
    clock.advance(days=2)
    actions = await open_actions(alex, count=1)
    assert "Started: 8 answers saved" in actions.text
    await alex.press(actions, PPF)
    w = await window(alex, here)  # exactly where she was
    assert w.text.startswith(
        "Parental Preference Form\nStep 4 of 6: Parental Preference Form · Question 4 of 6\n\n"
    )
    await alex.press(w, "Special school")

    q = header(4, PPF, 5, 6) + "\n\nDoes your child go to a school, nursery or college now?"
    await alex.press(await window(alex, q), "Yes")
    # number
    q = header(4, PPF, 6, 7) + "\n\nHow many school days a week"
    await window(alex, q)
    await wrong(alex, alex.send("seven"), "Please give a whole number between 0 and 5.", q)
    await wrong(alex, alex.send("9"), "Please give a whole number between 0 and 5.", q)
    await alex.send("4")
    # date
    q = header(4, PPF, 7, 7) + "\n\nWhen would you like your child to start"
    await window(alex, q)
    await wrong(alex, alex.send("31/02/2027"), "There is no 31 Feb 2027", q)
    await wrong(alex, alex.send("1/1/2020"), "The start date cannot be in the past.", q)
    await alex.send("1/9/2027")

    # Step 5: supporting documents. Text, a file too big, a refused type, then a PDF.
    g = await window(alex, header(5, "Supporting Documentation") + "\n\nDocuments that support")
    await alex.press(g, "Next")
    q = header(5, "Supporting Documentation", 1, 2) + "\n\nAny reports or letters"
    w = await window(alex, q)
    assert "Send the file here: a PDF, a Word document or a photo, up to 20 MB." in w.text
    assert "✅ Done with files" in [b.text for b in w.buttons]
    await wrong(
        alex,
        alex.send("here it is"),
        "Please send the file itself (as a document or photo), or press Done with files.",
        q,
    )
    await wrong(
        alex,
        alex.send_document(b"%PDF" + b"0" * (20 * 1024 * 1024 + 1), filename="huge.pdf"),
        "That file is too big",
        q,
    )
    await wrong(
        alex,
        alex.send_document(b"MZ\x90\x00random bytes", filename="x.exe"),
        "We cannot take that type of file",
        q,
    )
    w = await wrong(
        alex,
        alex.send_document(PDF, filename="school report.pdf"),
        "📎 Received school report.pdf. Send another, or press Done with files.",
        q,
    )
    assert "Your answer so far: school report.pdf" in w.text
    assert "🗑 Remove the files" in [b.text for b in w.buttons]
    await alex.press(w, "Done with files")

    # several choices: a typed word; ticks kept until Done.
    q = header(5, "Supporting Documentation", 2, 2) + "\n\nWhat are you sending?"
    w = await window(alex, q)
    w = await wrong(alex, alex.send("letter"), CHOOSE, q)
    await alex.press(w, "Report from school")
    await alex.wait_until(
        lambda: "✅ Report from school" in [b.text for b in alex.message(w.message_id).buttons],
        what="the tick",
    )
    await alex.press(alex.message(w.message_id), "Letter")
    await alex.wait_until(
        lambda: "✅ Letter" in [b.text for b in alex.message(w.message_id).buttons], what="tick 2"
    )
    # A crafted tick for a box not offered: refused, and nothing more is ticked.
    answer = await alex.press_data(alex.message(w.message_id), forged(alex.message(w.message_id), "Letter", "aunt"))
    assert answer.text == CHOOSE and answer.show_alert
    assert [b.text for b in alex.message(w.message_id).buttons if b.text.startswith("✅ ")] == [
        "✅ Report from school", "✅ Letter", "✅ Done"
    ]
    await alex.press(alex.message(w.message_id), "✅ Done")

    # Step 6: the last guidance, an optional question skipped, and the declaration.
    g = await window(alex, header(6, "Submit") + "\n\nCheck and submit")
    await alex.press(g, "Next")
    w = await window(alex, "Is there anything else you would like the SEND team to know?")
    await alex.press(w, "Skip")
    q = header(6, "Submit", 2, 2) + "\n\nThe information I have given is correct"
    w = await window(alex, q)
    w = await wrong(alex, alex.press(w, "No"), "Please press Yes to confirm before you submit.", q)
    await alex.press(w, "Yes")

    # The review: every answer, grouped by step, each with Change.
    review = await window(alex, "Please check your answers")
    for text in (
        "What is your full name?\nAlex Jones",
        "Mother",
        "07700 900123",
        "alex@example.org",
        "Oakfield Primary School",
        "Special school",
        "How many school days a week does your child go at the moment?\n4",
        "1 Sep 2027",
        "school report.pdf",
        "Report from school",
    ):
        assert text in review.text, review.text
    assert reasons[:200] in review.text and reasons not in review.text  # long: cut in the chat
    changes = [b.text for b in review.buttons if b.text.startswith("✏️ Change: ")]
    assert "✏️ Change: What is your full name?" in changes
    await alex.press(review, "Change: How many school days a week")
    w = await window(alex, "Your answer so far: 4")
    assert "How many school days a week" in w.text
    await alex.send("3")
    review = await window(alex, "Please check your answers")
    assert "How many school days a week does your child go at the moment?\n3" in review.text

    # Create PDF: the answers so far, as a document.
    mark = top(alex)
    await alex.press(review, "Create PDF")
    doc = await alex.wait_for(lambda m: m.message_id > mark and m.document is not None)
    assert doc.caption == "Your answers so far. Nothing has been sent to the SEND team."
    assert doc.protect_content == portal.settings.product.protect_documents
    text = pdf_text(doc.document.data)
    for answer in ("Alex Jones", "Oakfield Primary School", "alex@example.org", "1 Sep 2027"):
        assert squash(answer) in text, answer
    assert squash(reasons) in text

    # Submit, with confirmation.
    review = await window(alex, "Please check your answers", after=doc.message_id)
    await alex.press(review, "Submit")
    confirm = await window(alex, "Have you entered all the information you need to?")
    assert (
        'You will not be able to make any further changes once you press the "Submit" button.'
        in confirm.text
    )
    thanks, copy = await submit(alex, confirm)
    assert thanks.text == (
        "✅ Thank you. You sent “Parental Preference Form” to the SEND team on "
        "26 Nov 2026. Here is your copy."
    )
    assert copy.document.filename.endswith(".pdf")
    assert copy.protect_content == portal.settings.product.protect_documents
    assert squash("Oakfield Primary School") in pdf_text(copy.document.data)

    # Actions to Complete no longer lists it.
    actions = await open_actions(alex, count=0)
    assert "No items to complete." in actions.text
    assert not any(PPF in b.text for b in actions.buttons)

    # The caseworker reads it by the API: the list, the answers (the changed one), the PDF.
    status, listing = await stack.api("GET", "/v1/form-submissions")
    assert status == 200 and len(listing["items"]) == 1, listing
    sub = listing["items"][0]
    assert sub["form_id"] == "parental_preference" and sub["case_reference"] == "CASE-1"
    assert sub["assignment_id"] == assignment["id"]
    status, one = await stack.api("GET", f"/v1/form-submissions/{sub['id']}")
    assert status == 200, one
    values = {a["question_id"]: a["value"] for a in one["answers"]}
    assert values["days_a_week"] == 3 and values["school_1"] == "Oakfield Primary School"
    assert values["school_1_reasons"] == reasons and values["completed_by_name"] == "Alex Jones"
    assert values["document_kinds"] == ["school_report", "letter"]
    assert [f["filename"] for f in one["files"]] == ["school report.pdf"]
    async with stack.http.get(
        f"{stack.api_url}/v1/form-submissions/{sub['id']}/pdf",
        headers={"Authorization": f"Bearer {stack.token}"},
    ) as r:
        assert r.status == 200 and r.content_type == "application/pdf"
        text = pdf_text(await r.read())
    for a in one["answers"]:
        assert squash(a["text"]) in text, a  # every answer's text, whole

    status, msgs = await stack.api("GET", "/v1/messages")
    assert status == 200, msgs
    sent = [m for m in msgs["items"] if m["subject"] == "Parental Preference Form submitted"]
    assert len(sent) == 1 and sent[0]["direction"] == "to_team"
    assert any(a["mime"] == "application/pdf" for a in sent[0]["attachments"])


# ------------------------------------------------------------------ the request for an assessment


async def linked_without_children(stack, stand, email: str = "kim@example.org"):  # noqa: ANN001, ANN201
    """A parent with an account and a linked chat, and no child yet (logs in from the menu)."""
    await create_account(stack, email, forename="Kim", surname="Taylor")
    kim = stand.user(first_name="Kim")
    typed = await kim.send("/start")
    menu = await window(kim, "Main menu", after=typed.message_id)
    await kim.press(menu, "I already have an account")
    prompt = await kim.wait_for(lambda m: "log in with your email address and password" in m.text)
    url = re.search(r"(http://127\.0\.0\.1:\d+/p/[A-Za-z0-9_-]+)", prompt.text).group(1)
    code_mail = await submit_login(stack, kim, url, email)
    await kim.send(six_digit_code(code_mail))
    linked = await kim.wait_for(lambda m: "this chat is now linked" in m.text)
    await window(kim, "not activated access to a child yet", after=linked.message_id)
    return kim


async def test_a_parent_with_no_case_requests_an_assessment_and_the_dashboard_starts(
    stack, stand, portal, clock
):
    kim = await linked_without_children(stack, stand)
    menu = await window(kim, "not activated access to a child yet")  # the menu, once linked
    await kim.press(menu, "Request an EHC needs assessment")
    start = await window(kim, "An EHC needs assessment is when the council looks")
    assert "▶️ Start: Request for an EHC needs assessment" in [b.text for b in start.buttons]
    await kim.press(start, "Start: Request for an EHC needs assessment")

    title = "Request for an EHC needs assessment"
    g = await window(kim, f"{title}\nStep 1 of 6: About the request\n\nWhat an EHC needs")
    g = await press_and_see(kim, g, "Next", "What happens after you ask")
    await kim.press(g, "Next")
    q = f"{title}\nStep 2 of 6: About your child · Question 1 of 5\n\nWhat is your child's first name?"
    await window(kim, q)
    await kim.send("Robin")
    await window(kim, "What is your child's last name?")

    # She stops; the main menu's button then says she can carry on.
    mark = top(kim)
    await kim.press(await window(kim, "What is your child's last name?"), "Save and close")
    await kim.wait_for(
        lambda m: m.message_id > mark and "Your answers are saved" in m.text, include_consumed=True
    )
    start = await window(kim, "An EHC needs assessment is when the council looks", after=mark)
    assert "▶️ Carry on (1 answer saved): Request for an EHC needs assessment" in [
        b.text for b in start.buttons
    ]
    await kim.press(start, "Carry on")
    await window(kim, "Step 2 of 6: About your child · Question 2 of 5\n\nWhat is your child's last name?")
    await kim.send("Taylor")
    q = "What is your child's date of birth?"
    await window(kim, q)
    await wrong(kim, kim.send("yesterday-ish"), "That is not a date I can read.", q)
    await wrong(kim, kim.send("1/1/2030"), "The date of birth cannot be in the future.", q)
    await kim.send("14/3/2017")
    w = await window(kim, "Which school, nursery or college does your child go to?")
    await kim.press(w, "Skip")
    await kim.press(await window(kim, "know about this request"), "Yes")
    await window(kim, "What are your child's needs?")
    await kim.send("Robin finds reading and writing very hard and gets anxious in big groups.")
    await window(kim, "What support has your child had so far")
    await kim.send("Extra reading help twice a week since Year 2.")
    w = await window(kim, "Which professionals have been involved")
    await kim.press(w, "School SENCo")
    await kim.wait_until(
        lambda: "✅ School SENCo (special needs co-ordinator)" in [b.text for b in kim.message(w.message_id).buttons],
        what="the tick",
    )
    await kim.press(kim.message(w.message_id), "✅ Done")
    await kim.press(await window(kim, "What is your relationship"), "Mother")
    await kim.press(await window(kim, "What phone number can the SEND team call you on?"), "Skip")
    w = await window(kim, "Any reports or letters about your child's needs")
    await kim.press(w, "Done with files")  # optional: none is fine
    await kim.press(await window(kim, "Check and submit"), "Next")
    await kim.press(await window(kim, "The information I have given is correct"), "Yes")

    review = await window(kim, "Please check your answers")
    assert "What is your child's date of birth?\n14 Mar 2017" in review.text
    await kim.press(review, "Submit")
    confirm = await window(kim, "Have you entered all the information you need to?")
    thanks, copy = await submit(kim, confirm)
    assert thanks.text == (
        "✅ Thank you. You sent “Request for an EHC needs assessment” to the SEND team on "
        "24 Nov 2026. Here is your copy."
    )
    assert "Robin" in pdf_text(copy.document.data)
    done = await window(kim, "Your request for an EHC needs assessment has been sent.")
    assert done.text == (
        "Your request for an EHC needs assessment has been sent. The council must tell you by "
        "4 Jan 2027 whether it will carry out the assessment. You can follow it on the SEND Dashboard."
    )
    await kim.press(done, "SEND Dashboard")
    dash = await window(kim, "SEND Dashboard: Robin Taylor")
    assert "Date of request: 24 Nov 2026" in dash.text
    assert "Decision to assess due: 4 Jan 2027 (in 41 days)" in dash.text

    # The SEND team has the submission and the case.
    status, listing = await stack.api("GET", "/v1/form-submissions")
    assert status == 200 and len(listing["items"]) == 1, listing
    sub = listing["items"][0]
    assert sub["form_id"] == "ehc_needs_assessment_request" and sub["assignment_id"] is None
    ref = sub["case_reference"]
    assert ref.startswith("REQ-")
    status, case = await stack.api("GET", f"/v1/cases/{ref}")
    assert status == 200, case
    assert case["request_date"] == "2026-11-24"
    values = {a["question_id"]: a["value"] for a in sub["answers"]}
    assert values["child_forename"] == "Robin" and values["child_date_of_birth"] == "2017-03-14"


# ------------------------------------------------------------------ crafted buttons, and coming back


async def test_crafted_form_buttons_open_nothing_of_another_family(stack, stand, portal, clock):
    alex = await active_parent(stack, stand)
    pat = await active_parent(
        stack, stand, "pat@example.com", children=(("Zed", "CASE-9"),), first_name="Pat"
    )
    alex_form = await assign(stack, "CASE-1")
    pat_form = await assign(stack, "CASE-9", due=None)
    alex_notice = await notice_of(alex)
    pat_notice = await notice_of(pat)

    # Alex starts hers, so there is something to see.
    await alex.press(alex_notice, "Open the form")
    intro = await window(alex, "About this form")
    await alex.press(intro, "Next")
    await window(alex, "What is your full name?")
    await alex.send("Alex Secret-Name")
    await window(alex, "What is your relationship")

    # Pat presses crafted "Open the form" buttons: Alex's form, nonsense, a number too big.
    for data in (
        f"form:{alex_form['id']}:open",
        "form:abc:open",
        "form:99999999999999999999:open",
        "form:999999:open",
    ):
        pat.mark_read()
        answer = await pat.press_data(pat_notice, data)
        assert answer.text == NOT_AVAILABLE and answer.show_alert, data
        await pat.ensure_no_message(within=0.3)

    # Pat's own list: a crafted item with Alex's assignment id opens nothing.
    actions = await open_actions(pat, "Zed", count=1)
    assert "No due date" in actions.text
    answer = await pat.press_data(actions, forged(actions, PPF, str(alex_form["id"])))
    assert answer.show_alert and "no longer available" in answer.text
    await pat.press(actions, PPF)
    await window(pat, "About this form")
    assert "Alex Secret-Name" not in seen_by(pat) and "Sam" not in seen_by(pat)

    # Alex's notice button still opens hers, where she left it; Pat's id does not work for Alex.
    alex.mark_read()
    answer = await alex.press_data(alex_notice, f"form:{pat_form['id']}:open")
    assert answer.text == NOT_AVAILABLE
    await alex.ensure_no_message(within=0.3)


async def test_save_and_close_then_the_notice_button_opens_the_saved_question(
    stack, stand, portal, clock
):
    alex = await active_parent(stack, stand)
    a = await assign(stack)
    notice = await notice_of(alex)
    await alex.press(notice, "Open the form")
    await alex.press(await window(alex, "About this form"), "Next")
    await window(alex, "What is your full name?")
    await alex.send("Alex Jones")
    q = header(1, PPF, 2, 4) + "\n\nWhat is your relationship"
    await alex.press(await window(alex, q), "Other")
    # "Other" shows one more question in the step: 3 of 5.
    q = header(1, PPF, 3, 5) + "\n\nPlease tell us your relationship"
    mark = await save_and_close(alex, q)
    await window(alex, "Actions to Complete for Sam", after=mark)
    assert "Started: 2 answers saved" in live_window(alex, "Actions to Complete for Sam").text

    # Later, from the notice: the same question.
    mark = top(alex)
    await alex.press(notice, "Open the form")
    w = await window(alex, q, after=mark)
    assert "Your answer so far" not in w.text

    # The SEND team withdraws the form: the next press says so, and the button no longer opens it.
    status, _ = await stack.api("POST", f"/v1/form-assignments/{a['id']}/withdraw", {})
    assert status == 200
    mark = top(alex)
    await alex.send("Grandmother")
    await alex.wait_for(
        lambda m: m.message_id > mark and "That form is no longer available." in m.text,
        include_consumed=True,
    )
    await window(alex, "Main menu", after=mark)
    answer = await alex.press_data(notice, f"form:{a['id']}:open")
    assert answer.text == NOT_AVAILABLE
