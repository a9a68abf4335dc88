"""``summarizer eval``: scores and costs of one or more configs on reference articles."""
