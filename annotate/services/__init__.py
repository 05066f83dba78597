"""Every write and side effect of the annotate app."""
