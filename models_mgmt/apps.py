"""App config for models_mgmt: connects the receivers of annotate's events, and
keeps a GPU queue worker from starting on a host without an accelerator."""

import os
import sys

from django.apps import AppConfig


class ModelsMgmtConfig(AppConfig):
    name = "models_mgmt"
    verbose_name = "Models"

    def ready(self) -> None:
        from models_mgmt import receivers  # noqa: F401

        if sys.argv[1:2] == ["qcluster"] and os.environ.get("Q_CLUSTER_NAME"):
            from models_mgmt.services.backend import gpu_worker_problem

            problem = gpu_worker_problem(os.environ["Q_CLUSTER_NAME"])
            if problem:
                from django.core.exceptions import ImproperlyConfigured

                raise ImproperlyConfigured(problem)
