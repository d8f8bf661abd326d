"""Ask anything (issue 17): free text outside a prompt answered from the case, the knowledge base,
or declined (core/questions.py decides; this room words it and handles its buttons)."""
