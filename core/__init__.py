"""The portal service: domain, rules, persistence and services. Knows nothing of Telegram."""
