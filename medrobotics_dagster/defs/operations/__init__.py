"""Operations: run-mode jobs, the daily schedule, fault classification, alerts and freshness."""
