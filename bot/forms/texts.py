"""What a parent reads while filling in a form (plain English, as the guide says it)."""

from __future__ import annotations

from html import escape

from core.forms.questions import Question, QuestionType


def form_not_available() -> str:
    return "That form is no longer available. Please choose an option below."


def form_not_available_to_you() -> str:
    return "That form is not available to you."


def choose_a_button() -> str:
    return "Please choose one of the buttons below."


def type_your_answer() -> str:
    return "Please type your answer."


def send_the_file() -> str:
    return "Please send the file itself (as a document or photo), or press Done with files."


def file_needed() -> str:
    return "This question needs at least one file. Please send it here first."


def pdf_caption() -> str:
    return "Your answers so far. Nothing has been sent to the SEND team."


def saved_and_closed(own: bool) -> str:
    where = "from the main menu" if own else "from Actions to Complete"
    return f"Your answers are saved. You can carry on any time {where}."


def file_received(name: str) -> str:
    return f"📎 Received {escape(name)}. Send another, or press Done with files."


def files_removed() -> str:
    return "The files were removed. You can send others."


def confirm_text() -> str:
    return (
        "Have you entered all the information you need to? You will not be able to make any "
        'further changes once you press the "Submit" button.'
    )


def already_sent(title: str) -> str:
    return (
        f"You have already sent “{escape(title)}”, so it cannot be changed. "
        "To tell the SEND team something more, send them a message from /messages."
    )


def answers_saved(n: int) -> str:
    return f"{n} answer{'' if n == 1 else 's'} saved"


def request_intro() -> list[str]:
    """The top of "Request an EHC needs assessment" (the forms a parent starts)."""
    return [
        "📝 <b>Request an EHC needs assessment</b>",
        "",
        "An EHC needs assessment is when the council looks at your child's special educational "
        "needs and the help they need. You can ask for one here: the council must tell you "
        "within 6 weeks whether it will carry it out.",
    ]


def sent_with_copy(title: str, when: str) -> str:
    return (
        f"✅ Thank you. You sent “{escape(title)}” to the SEND team on {when}. "
        "Here is your copy."
    )


def request_sent(by: str) -> str:
    """After the request for an EHC needs assessment (`by`: " by 5 Jan 2027" or " within 6 weeks")."""
    return (
        "Your request for an EHC needs assessment has been sent. The council must tell you"
        f"{by} whether it will carry out the assessment. You can follow it on the SEND Dashboard."
    )


def form_sent() -> str:
    return (
        "Your form has been sent, so it is no longer in Actions to Complete. "
        "You do not need to do anything else. To add something, send the SEND team a message "
        "from /messages."
    )


def prompt(q: Question) -> str:
    """How to answer, under the question."""
    t = q.type
    if t is QuestionType.ONE_CHOICE:
        return "Choose one of the buttons below."
    if t is QuestionType.YES_NO:
        return "Choose Yes or No below."
    if t is QuestionType.SEVERAL_CHOICES:
        return "Tap each one that applies (✅ marks your choices), then tap Done."
    if t is QuestionType.LIST_CHOICE:
        return "Type part of the name, and I will show you the ones that match."
    if t is QuestionType.FILE:
        return "Send the file here: a PDF, a Word document or a photo, up to 20 MB."
    if t is QuestionType.DATE:
        return "Type the date, for example 3 Feb 2027 or 3/2/2027."
    if t is QuestionType.NUMBER:
        return "Type a number."
    if t is QuestionType.EMAIL:
        return "Type the email address."
    if t is QuestionType.PHONE:
        return "Type the phone number."
    return "Type your answer below."
