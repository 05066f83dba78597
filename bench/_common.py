"""Shared set-up for the benches (bench/scoring.py, bench/training_overhead.py,
bench/import_coco.py, bench/import_label_studio.py, ...).

A fresh SQLite database and media folder in a temporary directory, Django in
sync mode (django-q2 runs tasks inline), and builders for a project whose
items are synthetic images (annotate.demo_data), optionally made ground truth.
"""

import os
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def setup_django(prefix: str, *, sync: bool = True) -> Path:
    """Point alweb at a fresh temporary var dir (new SQLite file), set up Django and
    migrate. With `sync` False background work is queued, not run inline."""
    var = Path(tempfile.mkdtemp(prefix=f"alweb-bench-{prefix}-"))
    os.environ["ALWEB_VAR_DIR"] = str(var)
    os.environ.pop("ALWEB_SQLITE_PATH", None)
    os.environ["ALWEB_Q_SYNC"] = "1" if sync else "0"
    if sync:
        # Inline (sync) tasks run under the main cluster's timeout, the
        # housekeeping queue's 600 s: a training on a busy machine outlasts it.
        os.environ.setdefault("ALWEB_Q_HOUSEKEEPING_TIMEOUT", "7200")
    os.environ["ALWEB_ALLOWED_HOSTS"] = "testserver,127.0.0.1,localhost"
    os.environ.setdefault("ALWEB_LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "alweb.settings"
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    return var


def seed_bare_items(prefix: str, items: int, labels: list[str]):
    """A fresh database (setup_django(prefix)) with a project of `labels` (box
    and polygon) owned by "bench-owner" and `items` items bulk-created as
    img_<i>.png, 640x480, with no image files (the imports read none);
    (var folder, project)."""
    var = setup_django(prefix)
    from annotate.models import Item
    from annotate.services.projects import project_create
    from tests.factories import UserFactory, bare_item_rows

    owner = UserFactory(username="bench-owner")
    project = project_create(
        owner=owner, name="bench", labels=labels, kinds=["box", "polygon"]
    )
    Item.objects.bulk_create(bare_item_rows(project, items), batch_size=5000)
    return var, project


@contextmanager
def timer(into: dict, key: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        into[key] = into.get(key, 0.0) + time.perf_counter() - t0


@contextmanager
def no_scoring_on_create():
    """item_create sends item_created, which (sync mode) runs a cold-start
    scoring job inline per item: not what these benches measure."""
    from annotate import signals
    from models_mgmt.receivers import score_new_items

    signals.item_created.disconnect(score_new_items)
    try:
        yield
    finally:
        signals.item_created.connect(score_new_items)


def make_project(model_config: dict, *, name: str = "bench", split=None):
    from annotate.demo_data import DEMO_LABELS
    from annotate.services.projects import project_create
    from models_mgmt.services.pipeline import pipeline_update
    from tests.factories import UserFactory

    owner = UserFactory(username=f"{name}-owner")
    project = project_create(
        owner=owner, name=name, labels=DEMO_LABELS, kinds=["box", "polygon"]
    )
    data = {"model_config": model_config}
    if split:
        data["split"] = split
    pipeline_update(project=project, actor=owner, data=data)
    return project, owner


def add_items(project, n: int, *, start_seed: int = 0, size=(320, 240)):
    from annotate.demo_data import synthetic_image
    from annotate.services.items import item_create

    with no_scoring_on_create():
        return [
            item_create(
                project=project,
                data=synthetic_image(start_seed + i, *size).png,
                name=f"img_{start_seed + i}.png",
            )
            for i in range(n)
        ]


def add_ground_truth(project, owner, n: int, *, start_seed: int = 0, size=(320, 240)):
    """n synthetic items with their shapes as annotations, made ground truth
    (seeded train/val/test split from the pipeline). Training triggers stay
    off: items_make_ground_truth's item_approved may not start a run here."""
    from annotate.demo_data import synthetic_image
    from annotate.services.annotations import annotations_replace, shapes_validate
    from annotate.services.labeling import items_make_ground_truth

    items = add_items(project, n, start_seed=start_seed, size=size)
    for i, item in enumerate(items):
        shapes = synthetic_image(start_seed + i, *size).shapes
        annotations_replace(
            item=item, shapes=shapes_validate(item=item, shapes=shapes), author=owner
        )
    items_make_ground_truth(project=project, item_ids=[i.pk for i in items])
    return items


def header(title: str) -> None:
    import platform

    import torch
    import ultralytics

    print(f"== {title} ==")
    print(
        f"{time.strftime('%Y-%m-%d %H:%M:%S %Z')} | {platform.machine()} "
        f"{os.cpu_count()} cores | python {platform.python_version()} | "
        f"torch {torch.__version__} (threads {torch.get_num_threads()}) | "
        f"ultralytics {ultralytics.__version__}"
    )
