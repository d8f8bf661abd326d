"""Children's cases (PRODUCT.md journeys 4 and 8): dated events, exceptions, the caseworker, the
key dates and stage worked out by `core.timescales`, and the parent's SEND Dashboard.

- `CaseService`: the SEND team's side (create and change cases, record events and exceptions,
  allocate the caseworker, the list of cases with a date overdue or due soon).
- `DashboardService`: the parent's side (which children a chat may see, the SEND Dashboard's
  data, the timeline picture), with access checked in every call.
- `notices`: what the family is told when the case changes (worded by a face).

Modules are imported by name (core.cases.service, core.cases.dashboard, ...): the reminder
planner (core.reminders) reads this package's tables, and follows its changes through events.
"""
