"""What a parent sends that a step did not ask for gets a kind answer and the question again.

- A photo, sticker, file or voice message at a code prompt (the emailed 6-digit code after
  registering or logging in, the invitation's unique code) is not a code: it is answered "Please
  type the ... code ... as a message", the question is asked again, and no try is used up.
- A subject, a message, a form's typed answer or a name made only of spaces and invisible
  characters (zero-width spaces and joiners, the byte-order mark, Hangul fillers, braille
  blanks...) looks empty to whoever reads it: it is refused kindly, and the question is asked
  again; invisible characters at the ends of a real answer are dropped.
"""

from __future__ import annotations

from sqlalchemy import func, select

from core.accounts.models import OneTimeCode, RateEvent
from core.onboarding.models import Invitation
from tests.stack import (
    REGISTRATION,
    PageForm,
    active_parent,
    create_account,
    give_unique_code,
    invitation_secrets,
    open_invitation,
    page_url,
    six_digit_code,
    submit_login,
    window,
)

# Each looks empty: spaces, zero-width space/non-joiner/joiner, BOM, word joiner, soft hyphen,
# Mongolian vowel separator, Hangul filler, braille blank, ideographic space.
INVISIBLE = (
    " \u200b ", "\u200b\u200c\u200d\ufeff", "\u2060\u00ad\u180e", "\u3164", "\u2800 \u2800", "\u3000",
)
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
EMAIL_CODE_NEEDED = "Please type the 6-digit code from the email as a message."
UNIQUE_CODE_NEEDED = "Please type the unique code from your invitation email as a message."


# ------------------------------------------------------------------ sending what is not text


def _raw(stand, user, n: int, **content) -> None:  # noqa: ANN001, ANN003
    """A message of a kind the stand-in's users cannot send themselves (sticker, voice)."""
    stand.inject_update({"message": {
        "message_id": 90_000 + n, "from": user.user_dict(), "chat": user.chat_dict(),
        "date": stand.world.now(), **content,
    }})


async def send_not_text(stand, user, n: int) -> str:  # noqa: ANN001
    """The n-th of: a photo, a file, a sticker, a voice message (then round again). Returns what."""
    kind = ("photo", "file", "sticker", "voice")[n % 4]
    if kind == "photo":
        await user.send_photo(PNG)
    elif kind == "file":
        await user.send_document(b"%PDF-1.4\n%%EOF\n", filename="code.pdf")
    elif kind == "sticker":
        _raw(stand, user, n, sticker={
            "file_id": f"CAACAgIAAxkBsticker{n}", "file_unique_id": f"AgADst{n}", "type": "regular",
            "width": 512, "height": 512, "is_animated": False, "is_video": False,
        })
    else:
        _raw(stand, user, n, voice={
            "file_id": f"AwACAgIAAxkBvoice{n}", "file_unique_id": f"AgADvo{n}", "duration": 3,
            "mime_type": "audio/ogg",
        })
    return kind


async def kind_answer_and_question_again(user, answer: str, question: str) -> None:  # noqa: ANN001
    said = await user.wait_for(lambda m: answer in m.text)
    again = await user.wait_for(lambda m: question in m.text and m.message_id > said.message_id)
    assert "not right" not in said.text and "tries" not in said.text, said.text
    assert again is not None


async def wrong_tries(portal, purpose: str) -> list[int]:  # noqa: ANN001
    async with portal.db() as s:
        return list((await s.scalars(select(OneTimeCode.wrong_tries).where(OneTimeCode.purpose == purpose))).all())


async def wrong_code_events(portal) -> int:  # noqa: ANN001
    async with portal.db() as s:
        return await s.scalar(select(func.count()).select_from(RateEvent).where(RateEvent.kind == "wrong"))


async def menu_of(user):  # noqa: ANN001, ANN201
    await user.send("/start")
    return await user.wait_for(lambda m: "What would you like to do?" in m.text and m.reply_markup is not None)


# ------------------------------------------------------------------ the emailed code


async def test_five_photos_files_stickers_or_voice_messages_at_the_registration_code_use_no_try(
    stack, stand, portal
) -> None:
    email = "robin.lee@example.org"
    user = stand.user(first_name="Robin")
    await user.press(await menu_of(user), "Register for new account")
    prompt = await user.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    status, html = await PageForm(stack.http, page_url(prompt.text)).submit({**REGISTRATION, "email": email})
    assert status == 200 and "Check your email" in html, html
    await user.wait_for(lambda m: "type the 6-digit code here" in m.text)
    code = six_digit_code(await stack.mail.wait_for(email, "Confirm your email"))

    for n in range(5):
        kind = await send_not_text(stand, user, n)
        await kind_answer_and_question_again(user, EMAIL_CODE_NEEDED, "never type your password")
        assert await wrong_tries(portal, "register") == [0], kind
    assert await wrong_code_events(portal) == 0

    typed = await user.send(code)
    await user.wait_for(lambda m: "Your account is registered, and this chat is now linked" in m.text)
    await user.wait_until(lambda: typed.deleted, what="the code to be deleted")


async def test_a_voice_message_at_the_login_code_uses_no_try(stack, stand, portal) -> None:
    email = "robin.lee@example.org"
    await create_account(stack, email)
    user = stand.user(first_name="Robin")
    await user.press(await menu_of(user), "I already have an account")
    prompt = await user.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    code_mail = await submit_login(stack, user, page_url(prompt.text), email)
    await send_not_text(stand, user, 3)  # a voice message
    await kind_answer_and_question_again(user, EMAIL_CODE_NEEDED, "never type your password")
    assert await wrong_tries(portal, "login") == [0]
    await user.send(six_digit_code(code_mail))
    await user.wait_for(lambda m: "You are logged in, and this chat is now linked" in m.text)


# ------------------------------------------------------------------ the invitation's unique code


async def test_five_photos_at_the_unique_code_prompt_use_no_try(stack, stand, portal) -> None:
    email = "robin.lee@example.org"
    await stack.invite(email)
    token, code = await invitation_secrets(stack, email)
    user = stand.user(first_name="Robin")
    await open_invitation(user, token)
    for n in range(5):
        await send_not_text(stand, user, n)
        await kind_answer_and_question_again(user, UNIQUE_CODE_NEEDED, "Verify your identity")
    async with portal.db() as s:
        assert (await s.scalars(select(Invitation.wrong_tries))).all() == [0]
    await give_unique_code(user, code)


# ------------------------------------------------------------------ text that looks empty


async def test_an_invisible_subject_message_or_form_answer_is_refused_and_asked_again(stack, stand, portal) -> None:
    from core.forms.models import FormResponse
    from tests.test_forms_e2e import PPF, TYPE, assign, header, notice_of, wrong
    from tests.test_messages_e2e import case_messages, open_messages

    user = await active_parent(stack, stand)

    async def refused_each_time(refusal: str, question: str) -> None:
        """Each blank text is refused with `refusal`, and the window with `question` comes again."""
        for blank in INVISIBLE:
            mark = user.messages[-1].message_id
            await user.send(blank)
            said = await user.wait_for(lambda m, mark=mark: m.message_id > mark and refusal in m.text)
            await window(user, question, after=said.message_id)

    # New Message: the subject, then the text.
    menu = await open_messages(user)
    await user.press(menu, "New Message")
    await user.press(await window(user, "Message Type"), "General")
    await window(user, "please type a short subject")
    await refused_each_time("Please type the subject", "please type a short subject")
    await user.send("\u200bSchool transport\u200b")  # a real subject: kept, its invisible ends dropped
    await window(user, "please type your message")
    await refused_each_time("Please type your message", "please type your message")
    await user.send("Sam needs a taxi from September.")
    w = await window(user, "has 32 characters so far")
    await user.press(w, "Done")
    await user.press(await window(user, "Files"), "No files")
    await user.press(await window(user, "Check your"), "Send")
    await user.wait_for(lambda m: "Your message has been sent to the SEND team" in m.text)
    [sent] = await case_messages(stack)
    assert sent["subject"] == "School transport" and sent["text"] == "Sam needs a taxi from September.", sent

    # A form's typed answer.
    await assign(stack)
    await user.press(await notice_of(user), "Open the form")
    await user.press(await window(user, header(1, PPF)), "Next")
    q = header(1, PPF, 1, 4) + "\n\nWhat is your full name?"
    await window(user, q)
    for blank in INVISIBLE:
        await wrong(user, user.send(blank), TYPE, q)
    await user.send("\u2060Alex Jones\u2060")
    await window(user, "What is your relationship to the child")
    async with portal.db() as s:
        [answers] = (await s.scalars(select(FormResponse.answers))).all()
    assert "Alex Jones" in answers.values(), answers  # kept without its invisible ends


async def test_names_of_only_invisible_characters_are_refused_on_the_registration_page(stack, stand, portal) -> None:
    email = "robin.lee@example.org"
    user = stand.user(first_name="Robin")
    await user.press(await menu_of(user), "Register for new account")
    prompt = await user.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    form = PageForm(stack.http, page_url(prompt.text))
    for blank in INVISIBLE:
        fields = {**REGISTRATION, "email": email, "forename": blank, "surname": blank, "street": blank,
                  "town": blank, "house": blank}
        status, html = await form.submit(fields)
        assert status == 400, html
        for label in ("forename", "surname", "street", "town"):
            assert f"Please enter your {label}." in html, (blank, label)
        assert "Please enter your house" not in html  # optional: taken as left empty
    assert stack.mail.to(email) == []
    # A name with invisible characters at its ends is taken without them.
    status, html = await form.submit({**REGISTRATION, "email": email, "forename": "\u200bRobin\ufeff"})
    assert status == 200 and "Check your email" in html, html
    code = six_digit_code(await stack.mail.wait_for(email, "Confirm your email"))
    await user.send(code)
    await user.wait_for(lambda m: "Your account is registered" in m.text)
    from core.accounts.models import Account

    async with portal.db() as s:
        assert (await s.scalars(select(Account.forename))).all() == ["Robin"]
