"""What a run leaves for people and monitoring: the report, the daily digest, metrics."""
