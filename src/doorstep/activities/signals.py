"""Signals activities sends for apps above it (import-linter layers): they subscribe in their
AppConfig.ready(), so activities never imports them."""

from django.dispatch import Signal

# An accepted door check-in, sent inside its transaction: `checkin_id`. (visits records the
# visit in the same transaction.)
checked_in = Signal()
