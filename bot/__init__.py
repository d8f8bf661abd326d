"""The Telegram side: aiogram handlers and aiogram-dialog dialogues over the core services."""
