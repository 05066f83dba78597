"""alweb: wiring of the annotation and model-loop apps."""
