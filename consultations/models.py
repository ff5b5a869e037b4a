"""Models arrive with the booking funnel (see the issue tracker)."""
