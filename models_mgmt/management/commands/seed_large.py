"""Seed one large project for scale checks: `python manage.py seed_large --items N`.

What a project looks like after months of work: mostly unlabelled items (some
scored by the best model, with its pre-annotations), one claim per annotator,
a review backlog, ground truth with its train/val/test split, model versions
with evaluations, comparisons and runs, and one member per role. Rows go in
with bulk_create in batches, in one transaction (under a minute for 100,000
items); the items share a few image files (their checksums are synthetic,
unique per item). It refuses to run twice for one project name.
"""

import time

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction

from alweb.roles import Role
from annotate.demo_data import DEMO_LABELS, synthetic_image
from annotate.selectors import project_ids_named
from annotate.services.items import item_create
from annotate.services.projects import project_create
from annotate.services.seeding import labelling_seed, members_seed
from models_mgmt import seeding

PASSWORD = "alweb-seed"


class Command(BaseCommand):
    help = (
        "Create (once per --name) a large project: N items with realistic statuses, "
        "splits, priorities and shapes, model versions, evaluations, comparisons, "
        "runs, and one member per role."
    )

    def add_arguments(self, parser):
        parser.add_argument("--items", type=int, default=100_000)
        parser.add_argument("--name", default=None, help="default: 'Large (N items)'")
        parser.add_argument("--seed", type=int, default=0, help="random seed")
        parser.add_argument("--batch", type=int, default=5000, help="rows per batch")
        parser.add_argument("--images", type=int, default=8, help="distinct files")

    def handle(self, *args, items: int, name, seed: int, batch: int, images: int, **_):
        if items < 10:
            raise CommandError("--items must be at least 10")
        if not 1 <= images <= min(items, 64):
            raise CommandError("--images must be between 1 and min(items, 64)")
        name = name or f"Large ({items} items)"
        existing = project_ids_named(name=name)
        if existing:
            raise CommandError(
                f"project {name!r} already exists (id {existing[0]}): seed_large "
                "runs once per name; pass --name to seed another project"
            )
        t0 = time.perf_counter()
        prefix = f"seed{seed}-{items}"
        # One transaction: a run that fails half-way leaves nothing behind, so
        # the name check above stays the whole story. (It holds SQLite's write
        # lock meanwhile: seed a database the app is not busy on.)
        with transaction.atomic():
            users = self._users(prefix)
            project = project_create(
                owner=users[Role.OWNER][0],
                name=name,
                labels=list(DEMO_LABELS),
                kinds=["box", "polygon"],
                description=f"seed_large: {items} items, seed {seed}.",
            )
            members_seed(project=project, users=users)
            files = [
                item_create(
                    project=project,
                    data=synthetic_image(seed * 1000 + k, 320, 240).png,
                    name=f"seed_{k}.png",
                    notify=False,
                )
                for k in range(images)
            ]
            versions = seeding.versions_seed(
                project=project, developer=users[Role.DEVELOPER][0]
            )
            counts = labelling_seed(
                project=project,
                users=users,
                files=files,
                n_items=items,
                seed=seed,
                batch=batch,
                model_version_id=next(v.pk for v in versions if v.is_best),
            )
            counts.update(
                seeding.history_seed(project=project, versions=versions, users=users)
            )
        statistics_refresh()
        seconds = time.perf_counter() - t0
        self.stdout.write(
            self.style.SUCCESS(f"Seeded project {project.name!r} (id {project.pk})")
        )
        for key, value in counts.items():
            self.stdout.write(f"  {key}: {value}")
        self.stdout.write(f"  seconds: {seconds:.1f}")
        self.stdout.write(f"  database: {connection.vendor}, {database_size()}")
        self.stdout.write(
            f"  users: {', '.join(u.username for m in users.values() for u in m)} "
            f"(password {PASSWORD!r})"
        )

    def _users(self, prefix: str) -> dict[str, list]:
        """New users per role (fails if they exist: the name check comes first)."""
        User = get_user_model()
        per_role = {
            Role.OWNER: 1,
            Role.DEVELOPER: 1,
            Role.ANNOTATION_MANAGER: 1,
            Role.REVIEWER: 2,
            Role.ANNOTATOR: 5,
        }
        model = User(username="x")
        model.set_password(PASSWORD)  # one hash for all: set_password is slow
        taken = set(
            User.objects.filter(username__startswith=f"{prefix}-").values_list(
                "username", flat=True
            )
        )
        users: dict[str, list] = {}
        for role, n in per_role.items():
            names = [f"{prefix}-{role}{i + 1}" for i in range(n)]
            if taken & set(names):
                raise CommandError(f"users {prefix}-* exist: pass another --seed")
            users[role] = [
                User.objects.create(username=n, password=model.password) for n in names
            ]
        return users


def statistics_refresh() -> None:
    """ANALYZE on PostgreSQL, as after any bulk load: until autovacuum gets
    to it (a minute or more), the planner knows the tables only as they were
    when they were empty. With those figures a label claim's read of the
    items assigned to the user (none) walked all 83,000 unlabeled items of
    the queue index, 17.6 ms a claim, where the assigned_to index takes 0.03
    ms (EXPLAIN ANALYZE at 100k items). SQLite keeps no statistics unless
    asked (ANALYZE writes sqlite_stat1), and its plans were chosen without
    them: left alone."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def database_size() -> str:
    """The size of the whole database, as the engine reports it."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
        elif connection.vendor == "sqlite":
            cursor.execute(
                "SELECT page_count * page_size FROM pragma_page_count(), "
                "pragma_page_size()"
            )
        else:
            return "size unknown"
        size = cursor.fetchone()[0]
    return f"{size / 2**20:.1f} MiB"
