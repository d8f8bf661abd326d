"""Letters and plans the SEND team publishes to a case (PRODUCT.md journey 6, the guide's
"Documents to View")."""
