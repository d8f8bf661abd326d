"""How long an emailed code works is a setting (EHCP_CODE_MINUTES): the email, the chat and the
"new code" answer all say the minutes the setting gives, and the code runs out then."""

from __future__ import annotations

import pytest

from tests.stack import REGISTRATION, PageForm, body, page_url, six_digit_code


@pytest.fixture
def code_minutes(monkeypatch):  # noqa: ANN001, ANN201
    monkeypatch.setenv("EHCP_CODE_MINUTES", "25")  # read with the other settings, as the portal is made
    return 25


async def test_the_email_and_the_chat_say_the_minutes_a_code_works_as_set(code_minutes, stack, stand, clock) -> None:
    # `code_minutes` first: the setting is read when the portal's settings are.
    email = "robin.lee@example.org"
    user = stand.user(first_name="Robin")
    await user.send("/start")
    menu = await user.wait_for(lambda m: "What would you like to do?" in m.text and m.reply_markup is not None)
    await user.press(menu, "Register for new account")
    window = await user.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    status, html = await PageForm(stack.http, page_url(window.text)).submit({**REGISTRATION, "email": email})
    assert status == 200, html

    told = await user.wait_for(lambda m: "type the 6-digit code here" in m.text)
    assert "The code works for 25 minutes." in told.text
    mail = await stack.mail.wait_for(email, "Confirm your email")
    assert "It works for 25 minutes." in body(mail) and "10 minutes" not in body(mail)

    # Past the 25 minutes (the page's link still works: 30 minutes), the code has run out.
    clock.advance(minutes=26)
    await user.send(six_digit_code(mail))
    said = await user.wait_for(lambda m: "run out" in m.text)
    assert "codes work for 25 minutes" in said.text and "10 minutes" not in said.text

    # "Please send me a new code": the answer and the new email say 25 minutes too.
    window = await user.wait_for(lambda m: "never type your password" in m.text and m.message_id > said.message_id)
    answer = await user.press(window, "Please send me a new code")
    assert "It works for 25 minutes." in answer.text, answer
    again = await stack.mail.wait_for(email, "Confirm your email", after=stack.mail.messages.index(mail) + 1)
    assert "It works for 25 minutes." in body(again)
    await user.send(six_digit_code(again))
    await user.wait_for(lambda m: "Your account is registered, and this chat is now linked" in m.text)
