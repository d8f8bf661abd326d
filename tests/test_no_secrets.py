"""No secret, code or token is stored or logged in clear."""

from __future__ import annotations

import logging

import aiohttp

from api import bound_port, start_api
from core.tokens import create_token
from ehcp.logs import RedactSecrets, secret_values
from tests.test_cli_and_settings import all_text_in


async def test_tokens_and_keys_never_reach_the_database_or_the_log(running_bot, stand, portal, caplog):
    caplog.set_level(logging.DEBUG)
    # The process's own log filter, as `ehcp-bot run` installs it.
    redact = RedactSecrets(secret_values(portal.settings, portal.secret_key))
    caplog.handler.addFilter(redact)

    alice = stand.user(first_name="Alice")
    await alice.send("/start")
    await alice.next_message()
    api_token = await create_token(portal, "case-system")
    runner = await start_api(portal, port=0, purge_every=None)
    try:
        url = f"http://127.0.0.1:{bound_port(runner)}/v1/notices"
        async with aiohttp.ClientSession() as http:
            async with http.get(url, headers={"Authorization": f"Bearer {api_token}"}) as r:
                assert r.status == 200
            async with http.get(url, headers={"Authorization": "Bearer wrong-token-123456"}) as r:
                assert r.status == 401
    finally:
        await runner.cleanup()

    bot_token = portal.settings.telegram.bot_token.get_secret_value()
    secrets = [bot_token, bot_token.split(":")[1], api_token, portal.secret_key.decode()]
    db_text = all_text_in(portal.settings.storage.data_dir / "ehcp.sqlite3")
    log_text = caplog.text
    assert log_text  # something was logged, so the check below means something
    for secret in secrets:
        assert secret not in db_text
        assert secret not in log_text


async def test_a_page_link_token_is_never_kept_in_the_database(stack, stand, portal):
    """The chat shows the link; the database keeps only its digest and, in the dialogue, a seed."""
    from tests.stack import page_url

    alex = stand.user(first_name="Alex")
    await alex.send("/start")
    menu = await alex.wait_for(lambda m: "Main menu" in m.text)
    await alex.press(menu, "I already have an account")
    prompt = await alex.wait_for(lambda m: "never type your password" in m.text, include_consumed=True)
    token = page_url(prompt.text).rsplit("/", 1)[1]
    assert token not in all_text_in(portal.settings.storage.data_dir / "ehcp.sqlite3")


async def test_api_refuses_out_of_range_numbers_plainly(stack):
    for path in ("/v1/invitations?cursor=" + "9" * 30, "/v1/invitations?child_id=" + "9" * 30,
                 "/v1/notices?cursor=" + "9" * 30):
        status, body = await stack.api("GET", path)
        assert status == 422, (path, body)
