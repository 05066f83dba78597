"""Access to the ML backend (ultralytics by default), set up offline on first use."""

import importlib
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=1)
def get_backend():
    """The backend module named by ALWEB_ML_BACKEND, after its offline set-up.

    Imported lazily so the web process never loads torch to serve a page.
    """
    module = importlib.import_module(settings.ALWEB_ML_BACKEND)
    setup = getattr(module, "setup_offline", None)
    if setup is not None:
        settings.YOLO_CONFIG_DIR.mkdir(parents=True, exist_ok=True)
        setup(settings.YOLO_CONFIG_DIR)
    return module


def gpu_worker_problem(cluster: str, accelerator=None) -> str | None:
    """Why a qcluster of `cluster` must not start on this host, or None: the
    GPU queue's worker needs an accelerator that torch can use (`accelerator`:
    a function returning "cuda", "mps" or None; the ultralytics backend's by
    default)."""
    from runs import queues

    if cluster != queues.GPU:
        return None
    if accelerator is None:
        from ml.backends.ultralytics.devices import accelerator
    if accelerator() is None:
        return (
            "the gpu queue trains on an accelerator, and torch sees none on this "
            "host (torch.cuda.is_available() is false): run this qcluster on a "
            "GPU host, or give the project's model configuration device cpu"
        )
    return None
