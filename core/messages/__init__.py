"""Messages between carers and the SEND team (PRODUCT.md journey 5): core.messages.service."""
