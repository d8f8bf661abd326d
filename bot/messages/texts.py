"""What the messages room says (the guide's "Messages"): the menu, New Message and its steps,
Inbox and Sent Items, one message read. HTML; plain English, the next step obvious."""

from __future__ import annotations

from html import escape


def file_size(size: int) -> str:
    if size >= 1024 * 1024:
        return f"{size / (1024 * 1024):.1f} MB"
    return f"{max(1, round(size / 1024))} KB"


def messages_title(child_name: str, unread: int) -> str:
    if not unread:
        news = "No New Messages."
    elif unread == 1:
        news = "You have 1 new message in your Inbox."
    else:
        news = f"You have {unread} new messages in your Inbox."
    return (
        f"<b>Messages: {escape(child_name)}</b>\n\n"
        f"{news}\n\n"
        "Tap <b>New Message</b> to write to the SEND team, or open your <b>Inbox</b> to read their "
        "messages. Your messages are between you and the SEND team: nobody else who cares for "
        f"{escape(child_name.split(' ')[0])} can see them."
    )


def messages_choose_child() -> str:
    return "<b>Messages</b>\n\nWhich child is this about?"


def messages_needs_login() -> str:
    return (
        "You need to log in to send or read messages.\n\n"
        "Go to the main menu and log in or register."
    )


def messages_no_child() -> str:
    return (
        "<b>Messages</b>\n\n"
        "The SEND team has not activated access to a child for you yet. "
        "We will tell you here as soon as they do."
    )


def message_not_available() -> str:
    return "That message is not available."


def choose_message_type(child_forename: str) -> str:
    return (
        f"<b>New Message</b> about {escape(child_forename)}\n\n"
        "<b>Message Type</b>: what is your message about? Please choose one."
    )


def message_type_not_known() -> str:
    return "Please choose one of the message types shown."


def ask_subject(type_name: str) -> str:
    return (
        "<b>New Message</b>\n"
        f"Message Type: {escape(type_name)}\n\n"
        "<b>Subject</b>: please type a short subject for your message, for example "
        "\"School transport\"."
    )


def subject_needed() -> str:
    return "Please type the subject as text. A few words are enough."


def subject_too_long(limit: int) -> str:
    return (
        f"That subject is too long. It can be up to {limit} characters. "
        "Please type a shorter one."
    )


def ask_text(type_name: str, subject: str, body_len: int, note: str | None, replying: bool) -> str:
    """The Message step. `note` is "added" after a piece of text was added, or a line to show
    first (a file attached, or why not)."""
    head = "<b>Reply</b>" if replying else "<b>New Message</b>"
    lines = [head, f"Message Type: {escape(type_name)}", f"Subject: {escape(subject)}", ""]
    if note == "added":
        lines.append(
            f"Added. Your message has {body_len:,} characters so far. "
            "Send more, or tap <b>Done</b>."
        )
        return "\n".join(lines)
    if note:
        lines += [note, ""]
    if body_len:
        lines.append(
            f"Your message has {body_len:,} characters so far. "
            "Send more to add to it, or tap <b>Done</b>."
        )
    else:
        lines.append(
            "<b>Message</b>: please type your message. If it is long, you can send it in "
            "several parts: each one is added. Then tap <b>Done</b>. You can also send a photo "
            "or a document."
        )
    return "\n".join(lines)


def text_needed() -> str:
    return "Please type your message as text, or send a photo or a document to attach it."


def text_too_long(limit: int, kept: int) -> str:
    return (
        f"That part was not added: a message can be up to {limit:,} characters, and this "
        f"would make yours longer. What you wrote before is kept ({kept:,} characters).\n\n"
        "Tap Done to send what you have, then send the rest as a second message."
    )


def ask_files(files: list[dict], note: str | None) -> str:
    lines = ["<b>Files</b> (if you want)", ""]
    if note:
        lines += [note, ""]
    if files:
        lines.append("Attached so far:")
        lines += [f"📎 {escape(f['filename'])} ({file_size(f['size'])})" for f in files]
        lines.append("")
        lines.append("Send another photo or document, or tap <b>Continue</b>.")
    else:
        lines.append(
            "To attach a file, send it here as a photo or a document: a PDF, a Word document, "
            "a text file or a photo, up to 20 MB each. Or tap <b>No files</b>."
        )
    return "\n".join(lines)


def file_kept(filename: str) -> str:
    return f"📎 Attached: {escape(filename)}."


def file_refused(reason: str) -> str:
    return f"{escape(reason)}\n\nNothing was attached. You can send another file."


def too_many_files(limit: int) -> str:
    return f"A message can have up to {limit} files, and yours has that many already. Tap Continue."


def file_expected() -> str:
    return (
        "This step is for files. To attach one, send it as a photo or a document. "
        "To add more words to your message, tap <b>Add more text</b>. Or tap <b>Continue</b>."
    )


def preview_header(type_name: str, subject: str, files: list[dict], replying: bool) -> str:
    lines = [
        "<b>Check your reply</b>" if replying else "<b>Check your message</b>",
        f"Message Type: {escape(type_name)}",
        f"Subject: {escape(subject)}",
    ]
    if files:
        lines.append("Files: " + ", ".join(escape(f["filename"]) for f in files))
    lines.append("Message:")
    return "\n".join(lines)


def preview_footer() -> str:
    return "Tap <b>Send</b> to send it to the SEND team, or <b>Cancel</b>."


def preview_long_footer(parts: int) -> str:
    return (
        f"<b>Check your message</b>: it is shown above, in {parts} parts.\n\n" + preview_footer()
    )


def message_sent(response_time: str) -> str:
    return (
        "✅ Your message has been sent to the SEND team. You can find it in Sent Items. "
        f"The SEND team will reply {escape(response_time)}."
    )


def message_not_sent_cancelled() -> str:
    return "Cancelled. Your message was not sent."


def nothing_to_send() -> str:
    return "There is no message to send. Tap New Message to write one."


def box_title(child_name: str, box: str, total: int, page: int, pages: int) -> str:
    name = "Inbox" if box == "inbox" else "Sent Items"
    head = f"<b>{escape(child_name)}'s {name}</b>"
    if not total:
        empty = "No New Messages." if box == "inbox" else "You have not sent a message yet."
        return f"{head}\n\n{empty}"
    count = "1 message" if total == 1 else f"{total} messages"
    paging = f", page {page + 1} of {pages}" if pages > 1 else ""
    return (
        f"{head}\n{count}{paging}. Newest first: Date · From · To · Subject.\n\n"
        "Tap a message to read it."
    )


def message_header(type_name: str, subject: str, when: str, sender: str, recipient: str) -> str:
    return (
        f"<b>{escape(subject)}</b>\n"
        f"Date: {escape(when)}\n"
        f"From: {escape(sender)}\n"
        f"To: {escape(recipient)}\n"
        f"Message Type: {escape(type_name)}"
    )


def message_footer(files: int, can_reply: bool) -> str:
    lines = []
    if files:
        lines.append("📎 Tap a file below to receive it here.")
    if can_reply:
        lines.append("Tap <b>Reply</b> to answer.")
    return "\n".join(lines)


def message_long_footer(sender: str, subject: str, parts: int, files: int, can_reply: bool) -> str:
    lead = (
        f"That is the whole message from {escape(sender)} about “{escape(subject)}”, "
        f"in {parts} parts."
    )
    rest = message_footer(files, can_reply)
    return lead + (f"\n\n{rest}" if rest else "")


def question_subject() -> str:
    return "A question asked in the chat"


def question_filled_in(question: str) -> str:
    """The note above a New Message started by "Ask the SEND team": the question, to check."""
    return f"Your question is filled in:\n<i>{escape(question)}</i>"
