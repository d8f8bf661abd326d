"""Forms as dialogues (PRODUCT.md journey 7, the guide's "Actions to Complete"): definitions as
data (`definition`), the service that keeps every answer as it is given (`service`), and the
PDF of the answers (`pdf`)."""
