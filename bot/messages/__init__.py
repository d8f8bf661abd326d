"""Messages with the SEND team (the guide's "Messages"): the dialogue (its menu and child in
`dialog`, New Message and Reply in `compose`, Inbox, Sent Items and reading in `reading`), the
/messages command and the Read and Reply buttons under a caseworker's notice (`handlers`), and
what it says (`texts`)."""
