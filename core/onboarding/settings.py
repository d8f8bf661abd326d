"""Settings of onboarding (the bot's username for deep links, how long an invitation lasts): a
group of the one settings tree, `portal.settings.onboarding` (see core.config)."""

from core.config import OnboardingSettings

__all__ = ["OnboardingSettings"]
