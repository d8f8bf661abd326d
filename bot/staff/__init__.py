"""The staff group (EHCP_STAFF_CHAT_ID): caseworkers' replies in a family's topic go to the
parent; the bot's membership of groups is logged. Posting families' messages into the group is
the delivery's (notifications/staff_relay.py); what was posted is the core's record."""
