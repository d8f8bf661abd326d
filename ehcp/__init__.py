"""The composition root: the command line and the process that runs every part together."""
