"""Projects, items, annotations, the labelling/review queue and the split."""
