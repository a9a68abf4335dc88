"""``summarizer bench``: ways of running one model, measured side by side."""
