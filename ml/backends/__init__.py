"""ML backends; each imports its heavy framework only inside its functions."""
