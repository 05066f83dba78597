"""REST API of the annotate app (projects, members, pipeline, items, tasks, export)."""
