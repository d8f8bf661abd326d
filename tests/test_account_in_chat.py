"""A linked parent changes their password and their email address from the chat's menu.
The passwords are typed on the portal's pages; the emailed code is typed in the chat."""

from __future__ import annotations

from tests.stack import PASSWORD, REGISTRATION, PageForm, body, page_url, six_digit_code

NEW_PASSWORD = "Purple Elephant Kettle 77"


async def linked_parent(stack, stand, email: str):
    alex = stand.user(first_name="Alex")
    await alex.send("/start")
    await alex.wait_for(lambda m: "Main menu" in m.text)
    menu = alex.last
    await alex.press(menu, "Register for new account")
    prompt = await alex.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    status, html = await PageForm(stack.http, page_url(prompt.text)).submit({**REGISTRATION, "email": email})
    assert status == 200, html
    code = six_digit_code(await stack.mail.wait_for(email, "Confirm your email"))
    await alex.send(code)
    await alex.wait_for(lambda m: "this chat is now linked" in m.text)
    await alex.wait_for(lambda m: "Main menu" in m.text)  # the flow has finished
    return alex


async def open_menu(user):
    sent = await user.send("/start")
    return await user.wait_for(lambda m: "Main menu" in m.text and m.message_id > sent.message_id)


async def test_change_password_from_the_chat(stack, stand):
    email = "alex@example.org"
    alex = await linked_parent(stack, stand, email)
    menu = await open_menu(alex)
    await alex.press(menu, "Change my password")
    prompt = await alex.wait_for(lambda m: "change your password" in m.text, include_consumed=True)
    assert "never type your password in this chat" in prompt.text

    status, html = await PageForm(stack.http, page_url(prompt.text)).submit(
        {"current_password": PASSWORD, "password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert status == 200, html
    await alex.wait_for(lambda m: "Your password has been changed" in m.text)
    assert not any(NEW_PASSWORD in m.text or PASSWORD in m.text for m in alex.messages)


async def test_change_email_from_the_chat_with_the_code_sent_to_the_new_address(stack, stand):
    email, new_email = "alex@example.org", "alex.new@example.org"
    alex = await linked_parent(stack, stand, email)
    menu = await open_menu(alex)
    await alex.press(menu, "Change my email address")
    prompt = await alex.wait_for(lambda m: "change your email address" in m.text, include_consumed=True)
    status, html = await PageForm(stack.http, page_url(prompt.text)).submit(
        {"password": PASSWORD, "email": new_email}
    )
    assert status == 200, html
    await alex.wait_for(lambda m: "code to your new email address" in m.text)
    code = six_digit_code(await stack.mail.wait_for(new_email, ""))
    typed = await alex.send(code)
    changed = await alex.wait_for(lambda m: "email address has been changed" in m.text)
    assert new_email in changed.text
    assert typed.deleted
    told = await stack.mail.wait_for(email, "your email address was changed")
    assert new_email in body(told)  # the old address is told where its emails now go
