"""Forms in chat (the guide's "Actions to Complete", and the request for an EHC needs assessment
from the main menu): the dialogue (`dialog`, assembled from `start`, `question`, `input`,
`search` and `review`, with what they share in `common`), the "Open the form" button under a
notice (`handlers`), and what it says (`texts`)."""
