"""REST API of models_mgmt: model versions and training (versions), the pipeline
resource that spans both apps (pipeline)."""
