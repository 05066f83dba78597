"""The README's loop on a fresh demo: how long the first training takes and
whether its model is any good.

Creates the demo project exactly as `make run` does (`manage.py demo`, default
sizes) in a fresh temporary database, then presses "Train now" as the developer
would, with django-q2 in sync mode (training, evaluation, comparison,
promotion and re-scoring of the pool run inline, in this process). Prints the
wall time from the click to the re-ordered queue, the first version's epochs
and test-split metrics, whether it was promoted (the quality gate), how many
pre-annotations the pool got and how many distinct priorities the queue has.

Target (issue 10): mAP50 >= 0.5 on the test split within 3 minutes on 2 cores,
then real pre-annotations and distinct priorities. Leaves out: the demo's own
set-up time (printed separately), the web server and the worker processes (a
real `make run` runs the same code in the training qcluster).

Usage: .venv/bin/python bench/demo_first_model.py
"""

import time

from _common import setup_django


def main() -> None:
    setup_django("demo")
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from annotate.models import Annotation, Item, Project
    from models_mgmt.models import Comparison, ModelVersion
    from models_mgmt.services.training import training_start

    t0 = time.perf_counter()
    call_command("demo", verbosity=0)
    setup_s = time.perf_counter() - t0
    project = Project.objects.get()
    developer = get_user_model().objects.get(username="developer")
    t0 = time.perf_counter()
    version = training_start(project=project, actor=developer)
    wall = time.perf_counter() - t0
    version = ModelVersion.objects.get(pk=version.pk)
    comparison = Comparison.objects.filter(candidate=version).first()
    unlabeled = Item.objects.filter(project=project, status="unlabeled")
    pre = Annotation.objects.filter(item__in=unlabeled, source="model").count()
    distinct = len(set(unlabeled.values_list("priority", flat=True)))
    splits = {
        s: Item.objects.filter(project=project, split=s).count()
        for s in ("train", "val", "test")
    }
    m = version.metrics
    print(f"demo set-up: {setup_s:.0f} s; ground truth splits {splits}")
    print(
        f"first training ({version.task}, {version.epochs} epochs, imgsz "
        f"{version.config.get('imgsz')}): {wall:.0f} s from Train now to the "
        f"re-ordered queue"
    )
    n_test = len(comparison.test_item_ids) if comparison else 0
    promoted = comparison.promoted if comparison else None
    why = comparison.reason if comparison else ""
    print(
        f"test split: mAP50 {m.get('map50', 0):.3f}, "
        f"mAP50-95 {m.get('map50_95', 0):.3f} on {n_test} items; "
        f"promoted: {promoted} ({why})"
    )
    print(
        f"pool: {unlabeled.count()} unlabelled items, {pre} pre-annotations, "
        f"{distinct} distinct priorities"
    )


if __name__ == "__main__":
    main()
