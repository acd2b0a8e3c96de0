"""Signals visits sends for apps above it (import-linter layers)."""

from django.dispatch import Signal

# A visit or service record was deleted (undone): the (center id, local date) pairs whose
# figures must be recomputed, since a deletion leaves no updated_at for the incremental
# refresh. Sent after the delete, in its transaction.
records_deleted = Signal()
