"""What parents read about their child's case: stage names, key dates, notices, reminders and the
"Extra information" for each stage. Plain English, short sentences, dates as 30 Jan 2023.

Texts are HTML-escaped here (the bot sends HTML), so callers pass raw names. The notices that use
them are in bot/dashboard/notices.py.
"""

from __future__ import annotations

from datetime import date, timedelta
from html import escape

from core.cases.dashboard import Dashboard
from core.cases.events import EventKind
from core.timescales import KeyDate, Stage, Status, format_date

# ------------------------------------------------------------------ key dates and stages

# The parent's name for each key date (the guide's dashboard says "Decision Due", ...).
KEY_DATE_NAMES = {
    "decision_to_assess": "Decision to assess due",
    "assessment_decision": "If there will be no plan, you are told by",
    "final_plan": "Final EHC plan due",
    "draft_plan_comments": "Your comments on the draft plan by",
    "annual_review": "Annual review due",
    "review_papers": "Papers for the review meeting by",
    "review_report": "Review report due",
    "review_decision": "Decision to keep, change or stop the plan due",
    "amendment_comments": "Your comments on the changes by",
    "amended_plan": "Amended plan due",
    "amended_plan_after_review": "Amended plan due (12 weeks from the review)",
    "phase_transfer": "New school or college named by",
    "mediation_contact": "Contact the mediation adviser by",
    "tribunal_appeal": "Last day to appeal (by 5pm)",
}

# What the council must do by the date, for notices and reminders ("... is due by 12 Mar 2023").
KEY_DATE_WHAT = {
    "decision_to_assess": "the council's decision whether to carry out an EHC needs assessment",
    "assessment_decision": "the council's notice if it will not issue an EHC plan",
    "final_plan": "the final EHC plan",
    "draft_plan_comments": "your comments on the draft plan, and the school or college you want",
    "annual_review": "the annual review of the EHC plan",
    "review_papers": "the papers for the annual review meeting",
    "review_report": "the report of the annual review meeting",
    "review_decision": "the council's decision to keep, change or stop the plan after the annual review",
    "amendment_comments": "your comments on the proposed changes to the plan",
    "amended_plan": "the final amended EHC plan",
    "amended_plan_after_review": "the final amended EHC plan (at most 12 weeks after the review meeting)",
    "phase_transfer": "the plan naming the next school or college",
    "mediation_contact": "contacting the mediation adviser, if you may appeal",
    "tribunal_appeal": "the last day to appeal to the SEND Tribunal",
}

# What the parent does for their own date, after "Reminder for Sam: in 7 days, 15 Mar 2023."
_PARENT_STEPS = {
    "draft_plan_comments": "Send your comments on the draft plan, and the school or college you want, by {when}. "
    "You can send them by message from this chat.",
    "amendment_comments": "Send your comments on the proposed changes to the plan by {when}. "
    "You can send them by message from this chat.",
    "mediation_contact": "If you may appeal, contact the mediation adviser named in the council's letter by "
    "{when}. You need their certificate to appeal, and it can take 3 working days. "
    "Tap What can I do? to see how.",
    "review_papers": "The papers for {child}'s review meeting should reach you by {when}. If they have not, "
    "ask your caseworker. You can also send your own views before the meeting from this chat.",
}

# The statutory timescales as the guide's dashboard lists them, and which stage each case stage is.
ASSESSMENT_STAGES = (
    "Request",
    "Decision to assess",
    "Assessment",
    "Assessment decision",
    "Draft plan",
    "Final plan",
)
REVIEW_STAGES = ("Plan in place", "Annual review", "Changes to the plan")
CEASING_STAGES = ("Plan in place", "Annual review", "Plan ending")

_STAGE_POSITION: dict[Stage, tuple[tuple[str, ...], int]] = {
    Stage.REQUEST_RECEIVED: (ASSESSMENT_STAGES, 0),
    Stage.DECIDING_WHETHER_TO_ASSESS: (ASSESSMENT_STAGES, 1),
    Stage.NOT_ASSESSING: (ASSESSMENT_STAGES, 1),
    Stage.ASSESSING: (ASSESSMENT_STAGES, 2),
    Stage.DECIDING_WHETHER_TO_ISSUE: (ASSESSMENT_STAGES, 3),
    Stage.NO_PLAN: (ASSESSMENT_STAGES, 3),
    Stage.DRAFT_PLAN: (ASSESSMENT_STAGES, 4),
    Stage.FINAL_PLAN_ISSUED: (REVIEW_STAGES, 0),
    Stage.ANNUAL_REVIEW: (REVIEW_STAGES, 1),
    Stage.AMENDMENT: (REVIEW_STAGES, 2),
    Stage.CEASING: (CEASING_STAGES, 2),
}

STAGE_NAMES = {
    Stage.REQUEST_RECEIVED: "Request received",
    Stage.DECIDING_WHETHER_TO_ASSESS: "Deciding whether to assess",
    Stage.ASSESSING: "EHC needs assessment",
    Stage.DECIDING_WHETHER_TO_ISSUE: "Deciding whether to issue a plan",
    Stage.DRAFT_PLAN: "Draft plan",
    Stage.FINAL_PLAN_ISSUED: "EHC plan in place",
    Stage.ANNUAL_REVIEW: "Annual review",
    Stage.AMENDMENT: "Changes to the plan",
    Stage.NOT_ASSESSING: "The council decided not to assess",
    Stage.NO_PLAN: "The council decided not to issue a plan",
    Stage.CEASING: "The council decided to stop the plan",
}


def stage_list(stage: Stage) -> tuple[tuple[str, ...], int]:
    """The statutory timescales to show, and the index of the current one."""
    return _STAGE_POSITION[stage]


def key_date_line(kd: KeyDate, today: date) -> str:
    """One key date on the dashboard: "Decision to assess due: 12 Mar 2023 (in 5 days)"."""
    name = KEY_DATE_NAMES.get(kd.key, kd.name)
    assert kd.due is not None
    when = format_date(kd.due)
    if kd.key == "tribunal_appeal":
        when = f"{kd.due.strftime('%a')} {when}"
    if kd.status is Status.MET:
        if kd.met_on is None:  # met another way (reg 10(1): the council is issuing a plan)
            return f"✅ {name}: {when}. {escape(kd.note)}".rstrip()
        return f"✅ {name}: {when}. Done on {format_date(kd.met_on)}."
    last = kd.last_day or kd.due
    if kd.status is Status.OVERDUE:
        if kd.met_on is not None:
            return f"⚠️ {name}: {when}. Done late, on {format_date(kd.met_on)}."
        return f"🔴 {name}: {when}. <b>Overdue</b> by {_days((today - last).days)}."
    if today > kd.due:  # past the date shown, within the strict legal last day
        return f"🗓 {name}: {when} (in law, the council has until the end of {format_date(last)})."
    return f"🗓 {name}: {when} ({from_now(kd.due, today)})."


def _days(n: int) -> str:
    return "1 day" if n == 1 else f"{n} days"


def from_now(due: date, today: date) -> str:
    n = (due - today).days
    if n == 0:
        return "today"
    if n == 1:
        return "tomorrow"
    return f"in {n} days"


# ------------------------------------------------------------------ notices

_EVENT_HEADLINES = {
    EventKind.DECISION_TO_ASSESS: "The council has decided to carry out an EHC needs assessment for {child}.",
    EventKind.DECISION_NOT_TO_ASSESS: "The council has decided not to carry out an EHC needs "
    "assessment for {child}.",
    EventKind.DECISION_TO_ISSUE_PLAN: "The council has decided to issue an EHC plan for {child}. "
    "A draft plan comes first.",
    EventKind.DECISION_NOT_TO_ISSUE_PLAN: "The council has decided not to issue an EHC plan for {child}.",
    EventKind.DRAFT_PLAN_SERVED: "The draft EHC plan for {child} was sent to you on {on}.",
    EventKind.FINAL_PLAN_ISSUED: "The final EHC plan for {child} was issued on {on}.",
    EventKind.ANNUAL_REVIEW_MEETING: "The annual review meeting for {child} took place on {on}.",
    EventKind.REVIEW_REPORT: "The report of {child}'s annual review was sent on {on}.",
    EventKind.REVIEW_DECISION: "{outcome}",
    EventKind.REVIEW_MEETING_ARRANGED: "{child}'s annual review meeting is arranged for {meeting}. The papers "
    "for it should reach you at least 2 weeks before, by {papers}. You can send your own views too.",
    EventKind.CEASE_DECISION: "The council has decided to stop {child}'s EHC plan. The help in the plan "
    "carries on for now.",
    EventKind.AMENDMENT_NOTICE: "The council has proposed changes to {child}'s EHC plan.",
    EventKind.AMENDED_PLAN_ISSUED: "The amended EHC plan for {child} was issued on {on}.{names}",
    EventKind.PHASE_TRANSFER: "{child} moves to a new school or college {move}.",
    EventKind.DECISION_LETTER: "The council has sent you a decision letter about {child}{about}.",
    EventKind.MEDIATION_CERTIFICATE: "A mediation certificate for {child} was recorded, dated {on}.",
    EventKind.EXCEPTION: "The council has recorded an exception on {child}'s case: {exception}.",
}


def event_headline(kind: EventKind, child: str, on: date, details: dict) -> str:
    from core.timescales import EXCEPTION_NAMES

    about = details.get("about")
    day = date.fromisoformat(details["date"]) if details.get("date") else None
    move = f"on {format_date(day)}" if day else f"in September {details.get('year', '')}"
    return _EVENT_HEADLINES[kind].format(
        child=escape(child),
        on=format_date(on),
        move=move,
        meeting=format_date(day) if day else "",
        papers=format_date(day - timedelta(days=14)) if day else "",
        about=f" ({escape(about)})" if about else "",
        exception=EXCEPTION_NAMES.get(details.get("exception", ""), "an exception"),
        names=" It names the new school or college." if details.get("names_setting") else "",
        outcome=_REVIEW_OUTCOMES.get(details.get("outcome", ""), "").format(child=escape(child)),
    )


_REVIEW_OUTCOMES = {
    "keep": "After the annual review, the council has decided to keep {child}'s EHC plan as it is.",
    "amend": "After the annual review, the council has decided to change {child}'s EHC plan. "
    "It will send you the proposed changes.",
    "cease": "After the annual review, the council has decided to stop {child}'s EHC plan. The help "
    "in the plan carries on for now.",
}


def next_date_sentence(kd: KeyDate | None) -> str:
    if kd is None or kd.due is None:
        return ""
    return f"The next date is <b>{format_date(kd.due)}</b>: {KEY_DATE_WHAT.get(kd.key, kd.name)}."


def rights_sentence(kd_by_key: dict[str, KeyDate], kind: EventKind, details: dict | None = None) -> str:
    """The parent's right that this event opens, with its date, if any."""
    appeal = kd_by_key.get("tribunal_appeal")
    if kind is EventKind.REVIEW_DECISION and (details or {}).get("outcome") == "amend":
        return "You will have at least 15 days to comment on the proposed changes."
    if kind is EventKind.DRAFT_PLAN_SERVED:
        c = kd_by_key.get("draft_plan_comments")
        if c and c.due and c.status is Status.DUE:
            return (
                f"You have until <b>{format_date(c.due)}</b> to send your comments and to say "
                "which school or college you want."
            )
    if kind is EventKind.AMENDMENT_NOTICE:
        c = kd_by_key.get("amendment_comments")
        if c and c.due and c.status is Status.DUE:
            return f"You have until <b>{format_date(c.due)}</b> to send your comments on the changes."
    if kind in APPEAL_OPENS:
        if appeal and appeal.due and appeal.status is Status.DUE:
            return appeal_sentence(appeal.due)
    return ""


# Events that can open the parent's right to appeal (a review decision only to keep or to stop).
APPEAL_OPENS = (EventKind.DECISION_NOT_TO_ASSESS, EventKind.DECISION_NOT_TO_ISSUE_PLAN,
                EventKind.FINAL_PLAN_ISSUED, EventKind.AMENDED_PLAN_ISSUED, EventKind.DECISION_LETTER,
                EventKind.CEASE_DECISION, EventKind.REVIEW_DECISION)


def tribunal_day(d: date) -> str:
    """ "5pm on Mon 18 Jun 2023": the tribunal's last day as it counts (rule 12(1))."""
    return f"5pm on {d.strftime('%a')} {format_date(d)}"


def appeal_sentence(due: date) -> str:
    return (
        "If you disagree, you can appeal to the SEND Tribunal. "
        f"The tribunal must have your appeal by <b>{tribunal_day(due)}</b>. "
        "First contact the mediation adviser named in the council's letter. "
        "Tap What can I do? to see how."
    )


def event_notice(headline: str, rights: str, next_date: str, exception_note: str = "") -> str:
    parts = [headline, rights, next_date, exception_note,
             "Open the SEND Dashboard to see every date."]
    return "\n\n".join(p for p in parts if p)


def exception_note() -> str:
    return (
        "This means the council may not be able to keep to the usual time limits. "
        "The dates on the SEND Dashboard stay as the law sets them, and the dashboard shows "
        "that an exception applies."
    )


def caseworker_notice(child: str, name: str, contact: str) -> str:
    return (
        f"<b>{escape(name)}</b> is now {escape(child)}'s SEND caseworker.\n\n"
        f"You can send them a message from this chat, or contact them at {escape(contact)}."
    )


def caseworker_contact_notice(child: str, name: str, contact: str) -> str:
    return (
        f"{escape(child)}'s SEND caseworker, <b>{escape(name)}</b>, has new contact details: "
        f"{escape(contact)}."
    )


def request_date_notice(child: str, request: date, next_date: str) -> str:
    return "\n\n".join(
        p
        for p in (
            f"The council has recorded the request for an EHC needs assessment for "
            f"{escape(child)}, dated <b>{format_date(request)}</b>.",
            next_date,
            "Open the SEND Dashboard to see every date.",
        )
        if p
    )


def withdrawn_notice(child: str, name: str, on: date, next_date: str) -> str:
    return "\n\n".join(
        p
        for p in (
            f"The SEND team has corrected {escape(child)}'s case: \"{escape(name)}\" on "
            f"{format_date(on)} was recorded by mistake and has been removed.",
            next_date,
            "Open the SEND Dashboard to see every date as it now stands.",
        )
        if p
    )


def case_notice_subject(child: str) -> str:
    return f"News about {child}'s EHC case"


def missed_line(kd: KeyDate, caseworker: str | None, contact: str) -> str:
    """A council date that passed with no decision recorded, said plainly, with who to contact."""
    assert kd.due is not None
    what = KEY_DATE_WHAT.get(kd.key, kd.name)
    who = f"your caseworker, {escape(caseworker)}, at {escape(contact)}" if caseworker else escape(contact)
    return (
        f"⚠️ {what[0].upper()}{what[1:]} was due by {format_date(kd.due)}. "
        f"Nothing has been recorded yet. Please contact {who}."
    )


# ------------------------------------------------------------------ reminders

REMINDER_KINDS = {
    "before_7": "7 days before a date",
    "before_1": "1 day before a date",
    "on_day": "On the day",
    "missed": "When a date is missed",
}


def reminder_text(kind: str, key: str, child: str, due: date, party: str, contact: str,
                  caseworker: str | None, today: date) -> str:
    """A reminder as sent on `today` (a reminder sent late, after a restart, says the real time left)."""
    what = KEY_DATE_WHAT.get(key, key)
    child = escape(child)
    when = format_date(due)
    if kind == "missed":
        who = f"your caseworker, {escape(caseworker)}, at {escape(contact)}" if caseworker else escape(contact)
        return (
            f"⚠️ <b>A date for {child} has passed.</b>\n\n"
            f"{what[0].upper()}{what[1:]} was due by {when}. The council has not recorded it yet.\n\n"
            f"You can ask what is happening: contact {who}, or send a message from this chat. "
            "If it is still late, you can complain. Tap What can I do? to see your options."
        )
    lead = from_now(due, today)
    if key == "tribunal_appeal":
        days = (due - today).days
        left = "Today is the last day to appeal." if days == 0 else (
            "1 day left to appeal." if days == 1 else f"{days} days left to appeal.")
        return (
            f"⏰ <b>{left}</b>\n\n"
            f"If you want to appeal about {child}, the tribunal must have your appeal by "
            f"<b>{tribunal_day(due)}</b>. If you do not have a mediation certificate yet, contact the "
            "mediation adviser named in the council's letter today. Free help: your local SENDIASS. "
            "Tap What can I do? to see how."
        )
    if party == "parent":
        step = _PARENT_STEPS.get(key, "{What}: the last day is {when}.")
        return f"⏰ <b>Reminder for {child}: {lead}, {when}.</b>\n\n" + step.format(
            child=child, when=when, What=what[0].upper() + what[1:])
    return (
        f"⏰ <b>Reminder for {child}: {lead}, {when}.</b>\n\n"
        f"{what[0].upper()}{what[1:]} is due by {when}. You do not need to do anything. "
        "We will tell you when it arrives."
    )


def reminder_subject(child: str) -> str:
    return f"Reminder: a date for {child}"


# ------------------------------------------------------------------ extra information


def extra_information(stage: Stage, child: str, kd: dict[str, KeyDate], exceptions: list[str]) -> str:
    """What the current stage means, what happens next and by when, and the parent's rights."""
    c = escape(child)

    def due(key: str) -> str:
        k = kd.get(key)
        return format_date(k.due) if k and k.due else "a date the council will tell you"

    def open_(key: str) -> bool:
        k = kd.get(key)
        return bool(k and k.due and k.status in (Status.DUE, Status.OVERDUE))

    appeal_kd = kd.get("tribunal_appeal")
    appeal = (
        f"If you disagree with a decision, you can appeal to the SEND Tribunal. "
        f"The tribunal must have your appeal by <b>{tribunal_day(appeal_kd.due)}</b>. Before you "
        "appeal, you must contact a mediation adviser, unless your appeal is only about the school "
        "or college named."
        if appeal_kd is not None and appeal_kd.due is not None and open_("tribunal_appeal")
        else ""
    )
    body: list[str]
    if stage is Stage.REQUEST_RECEIVED:
        body = [
            f"The SEND team has {c}'s case, but the date of the request is not recorded yet.",
            "Once it is, the 20-week process starts, and the dates will show here.",
        ]
    elif stage is Stage.DECIDING_WHETHER_TO_ASSESS:
        body = [
            f"The council has the request for an EHC needs assessment for {c}. "
            "It is now deciding whether to carry one out.",
            f"<b>Next:</b> the council must tell you its decision by <b>{due('decision_to_assess')}</b> "
            "(6 weeks from the request).",
            "If it decides to assess, it will ask you, the school, health and social care for advice.",
            "<b>Your rights:</b> if it decides not to assess, you can appeal to the SEND Tribunal.",
        ]
    elif stage is Stage.ASSESSING:
        body = [
            f"The council is carrying out the EHC needs assessment for {c}. It gathers advice from "
            "you, the school, health and social care, and an educational psychologist.",
            f"<b>Next:</b> if the council decides not to issue an EHC plan, it must tell you by "
            f"<b>{due('assessment_decision')}</b> (16 weeks from the request). If it will issue one, "
            f"you get a draft first, and the final plan is due by <b>{due('final_plan')}</b>.",
            "<b>Your rights:</b> you can send your own views and any reports at any time. "
            "Use Messages in this chat.",
        ]
    elif stage is Stage.DECIDING_WHETHER_TO_ISSUE:
        body = [
            f"The assessment of {c} is finished. The council is deciding whether to issue an EHC plan.",
            f"<b>Next:</b> if it decides not to issue a plan, it must tell you by "
            f"<b>{due('assessment_decision')}</b>. Otherwise the final plan is due by "
            f"<b>{due('final_plan')}</b>.",
            "<b>Your rights:</b> if it decides not to issue a plan, you can appeal to the SEND Tribunal.",
        ]
    elif stage is Stage.DRAFT_PLAN:
        body = [f"The council is writing {c}'s EHC plan. You get a draft first."]
        if open_("draft_plan_comments"):
            body.append(
                f"<b>Your rights:</b> you have until <b>{due('draft_plan_comments')}</b> (15 days from "
                "the day the draft was sent) to comment on it, to ask for a meeting, and to say which "
                "school or college you want named."
            )
        else:
            body.append(
                "<b>Your rights:</b> when the draft arrives, you have 15 days to comment on it and to "
                "say which school or college you want named."
            )
        body.append(f"<b>Next:</b> the final plan is due by <b>{due('final_plan')}</b> "
                    "(20 weeks from the request).")
    elif stage is Stage.FINAL_PLAN_ISSUED:
        body = [
            f"{c} has an EHC plan. The council must review it at least once a year.",
            f"<b>Next:</b> the annual review is due by <b>{due('annual_review')}</b>. "
            "You will be invited to the meeting and asked for your views.",
        ]
        if open_("phase_transfer"):
            body.append(f"{c} is moving school or college: the plan must name the new one by "
                        f"<b>{due('phase_transfer')}</b>.")
        if appeal:
            body.append("<b>Your rights:</b> " + appeal)
    elif stage is Stage.ANNUAL_REVIEW:
        decision = kd.get("review_decision")
        if decision is not None and decision.met_on is not None:
            body = [f"{c}'s annual review meeting has taken place, and the council made its decision on "
                    f"{format_date(decision.met_on)}.",
                    f"<b>Next:</b> the next annual review is due by <b>{due('annual_review')}</b>."]
        else:
            body = [
                f"{c}'s annual review meeting has taken place.",
                f"<b>Next:</b> the report of the meeting is due by <b>{due('review_report')}</b>, and "
                f"the council must tell you by <b>{due('review_decision')}</b> whether it will keep, "
                "change or stop the plan.",
            ]
        if open_("amended_plan_after_review"):
            body.append(f"The council is changing the plan: the final amended plan is due by "
                        f"<b>{due('amended_plan_after_review')}</b> (12 weeks from the meeting).")
        if appeal:
            body.append("<b>Your rights:</b> " + appeal)
    elif stage is Stage.AMENDMENT:
        body = [f"The council has proposed changes to {c}'s EHC plan."]
        if open_("amendment_comments"):
            body.append(f"<b>Your rights:</b> you have until <b>{due('amendment_comments')}</b> "
                        "to comment on the changes and to ask for a meeting.")
        body.append(f"<b>Next:</b> the final amended plan is due by <b>{due('amended_plan')}</b>.")
        if open_("amended_plan_after_review"):
            body.append(f"It must also come within 12 weeks of the review meeting: by "
                        f"<b>{due('amended_plan_after_review')}</b>.")
    elif stage is Stage.NOT_ASSESSING:
        body = [f"The council decided not to carry out an EHC needs assessment for {c}."]
        if appeal:
            body.append("<b>Your rights:</b> " + appeal)
        body.append("You can also ask the SEND team to explain the decision. Use Messages in this chat.")
    elif stage is Stage.CEASING:
        body = [f"The council has decided to stop {c}'s EHC plan.",
                "The help in the plan carries on until the time to appeal has passed. If you appeal, "
                "it carries on until the appeal is decided."]
        if appeal:
            body.append("<b>Your rights:</b> " + appeal)
    else:  # NO_PLAN
        body = [f"The council assessed {c} and decided not to issue an EHC plan."]
        if appeal:
            body.append("<b>Your rights:</b> " + appeal)
        body.append("The school should still support your child's needs. Use Messages to ask the "
                    "SEND team what support comes next.")
    late = [k for k in kd.values() if k.status is Status.OVERDUE and k.met_on is None and k.due]
    for k in sorted(late, key=lambda k: k.due):
        what = KEY_DATE_WHAT.get(k.key, k.name)
        body.append(
            f"⚠️ <b>Late:</b> {what} was due by {format_date(k.due)}. Nothing has been recorded yet. "
            "You can ask the caseworker what is happening."
        )
    if exceptions:
        body.append(
            "<b>An exception is recorded</b> (" + escape(", ".join(exceptions)) + "). "
            "The council may not be able to keep to the usual time limits. The dates shown stay "
            "as the law sets them."
        )
    body.append("Tap What can I do? for your rights at this stage, and who can help.")
    title = f"<b>Extra information: {STAGE_NAMES[stage]}</b>"
    return "\n\n".join([title, *body])


# ------------------------------------------------------------------ the dashboard


def timeline_caption(child: str, stage: Stage) -> str:
    return (
        f"Timeline for {escape(child)}. The current stage, {STAGE_NAMES[stage].lower()}, "
        "is in purple. The line marks today."
    )


def dashboard_text(d: Dashboard) -> str:
    """The SEND Dashboard as one chat message: the statutory timescales with the current stage
    marked, the key dates, anything missed, exceptions, and the caseworker."""
    lines = [f"<b>SEND Dashboard: {escape(d.child_forename)} {escape(d.child_surname)}</b>", ""]
    lines.append("<b>Statutory timescales</b>")
    ended = d.stage in (Stage.NOT_ASSESSING, Stage.NO_PLAN, Stage.CEASING)
    stages, index = stage_list(d.stage)
    for i, name in enumerate(stages):
        if i < index:
            lines.append(f"✔️ {name}")
        elif i == index:
            lines.append(f"🟣 <b>{name}: {STAGE_NAMES[d.stage].lower()}</b> (current stage)"
                         if ended or name.lower() != STAGE_NAMES[d.stage].lower()
                         else f"🟣 <b>{name}</b> (current stage)")
        elif not ended:
            lines.append(f"▫️ {name}")
    lines += ["", "<b>Key dates</b>"]
    if d.request_date is not None:
        lines.append(f"Date of request: {format_date(d.request_date)}")
    if d.requestor:
        lines.append(f"Requestor: {escape(d.requestor)}")
    shown = [k for k in d.key_dates if k.due is not None]
    for kd in shown:
        lines.append(key_date_line(kd, d.today))
    if d.request_date is None and not shown:
        lines.append("No dates yet. They will show here once the SEND team records the request.")
    for kd in d.missed:
        lines += ["", missed_line(kd, d.caseworker_name, d.contact)]
    if d.exceptions:
        lines += [
            "",
            "ℹ️ <b>An exception is recorded</b> (" + escape(", ".join(d.exceptions)) + "). "
            "The council may not be able to keep to the usual time limits. "
            "The dates above stay as the law sets them.",
        ]
    lines.append("")
    if d.caseworker_name:
        lines.append(f"<b>SEND caseworker:</b> {escape(d.caseworker_name)} ({escape(d.contact)})")
    else:
        lines.append(f"<b>SEND caseworker:</b> not allocated yet. Contact {escape(d.contact)}.")
    lines += ["", "For more about the current stage, tap Extra information. For your rights, tap What can I do?"]
    return "\n".join(lines)


# ------------------------------------------------------------------ choosing a child, settings






def settings_text(current_name: str | None, several: bool) -> str:
    lines = [
        "<b>Settings</b>",
        "",
        "<b>Reminders</b>: tap one to switch it on ✅ or off ⬜️. Reminders wait until 8am if they "
        "fall at night.",
    ]
    if several:
        lines += ["", "<b>Child</b>: tap a name to show that child on the SEND Dashboard."]
        if current_name:
            lines.append(f"Showing now: {escape(current_name)} 👉")
    return "\n".join(lines)


def reminder_switched(name: str, on: bool) -> str:
    return f"{name}: {'on' if on else 'off'}."


def child_switched() -> str:
    return "Done. The SEND Dashboard now shows this child."
