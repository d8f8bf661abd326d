"""Turns events and key dates into deliveries: the outbox, its delivery to Telegram and email."""
