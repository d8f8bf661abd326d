"""Forms as dialogues (PRODUCT.md journey 7, the guide's "Actions to Complete").

Definitions as data: `questions` (the items: questions and guidance pages), `form` (the form, its
steps and the checks across them), `loading` (reading the files, with errors naming the file and
the problem), `lists` (the lists a question chooses from, and their search) and `answers` (a
typed answer checked and kept, and written back as the parent reads it). The service that keeps
every answer as it is given (`service`), the tables (`models`) and the PDF of the answers
(`pdf`)."""
