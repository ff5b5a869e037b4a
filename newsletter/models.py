"""Models arrive with subscribers and articles (see the issue tracker)."""
