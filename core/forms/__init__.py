"""Forms as dialogues (PRODUCT.md journey 7, the guide's "Actions to Complete").

Definitions as data: `questions` (the items: questions and guidance pages), `form` (the form, its
steps and the checks across them), `loading` (reading the files, with errors naming the file and
the problem), `lists` (the lists a question chooses from, and their search) and `answers` (a
typed answer checked and kept, and written back as the parent reads it).

Two services on one footing (`base`): the parent's side, `filling.FormFilling` (Actions to
Complete, every answer kept as it is given, the PDF, Submit; with `progress`, `responses` and
`submitting`), and the SEND team's side, `casework.FormCasework` (assign, withdraw, the
submissions). The tables are in `models`, the PDF of the answers in `pdf`."""
