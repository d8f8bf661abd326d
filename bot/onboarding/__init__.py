"""Proving who you are, linking an account and answering invitations: the dialogue and its texts."""
