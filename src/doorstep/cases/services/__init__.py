"""The requests services (docs/cases.md): the catalogue, filing, the moves, the timed work."""

from .common import CaseError, roles
from .filing import submit
from .handling import MOVES, close, message, move, raise_topic, rate, reopen
from .timed import close_resolved, escalate_due, forget_closed, remind_due, run_due_work
from .types import catalogue, create_type, offered, switch, type_from_topic

__all__ = [
    "MOVES",
    "CaseError",
    "catalogue",
    "close",
    "close_resolved",
    "create_type",
    "escalate_due",
    "forget_closed",
    "message",
    "move",
    "offered",
    "raise_topic",
    "rate",
    "remind_due",
    "reopen",
    "roles",
    "run_due_work",
    "submit",
    "switch",
    "type_from_topic",
]
