"""The SEND Dashboard: its dialogue, the /dashboard and /settings commands, the dashboard button under
notices, its texts, and the case notices and reminders it words for Telegram."""
