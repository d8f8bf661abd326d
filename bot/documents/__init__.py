"""Documents to View: the list and the files sent into the chat, the Receive button under a new
document's notice, and the notices about documents, worded for Telegram."""
