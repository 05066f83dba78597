"""Framework-free ML core of alweb: geometry, scoring, selection, datasets, backends."""
