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
