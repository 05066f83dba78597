"""Model versions, training/evaluation/scoring runs, comparisons and triggers."""
