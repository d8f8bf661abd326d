"""What a council's monitoring reads: liveness (/healthz), readiness (/readyz) and Prometheus
metrics (/metrics). It imports no face: the bot and the delivery are handed a `Metrics` to count
into; the composition (ehcp) puts the routes on a process's app or starts `start_ops_server`."""

from ops.health import TelegramCheck, checks_for, readiness
from ops.metrics import NOT_COUNTED, Counting, Metrics
from ops.server import add_routes, start_ops_server

__all__ = [
    "NOT_COUNTED", "Counting", "Metrics", "TelegramCheck", "add_routes", "checks_for", "readiness",
    "start_ops_server",
]
