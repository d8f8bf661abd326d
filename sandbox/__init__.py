"""The sandbox: the whole product in a browser, with the Bot API stand-in for Telegram, a mailbox
for email and a clock that moves forward on request (see runtime.py). A face like the bot and
the API: it calls core services and the stand-in, and core knows nothing of it."""
