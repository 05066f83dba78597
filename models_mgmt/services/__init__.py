"""Every write and side effect of models_mgmt: versions, runs, triggers."""
