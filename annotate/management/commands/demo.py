"""Create the demo project: generated images, ground truth, one user per role."""

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from alweb.roles import Role
from annotate.demo_data import DEMO_LABELS, synthetic_image
from annotate.models import Item, Membership, Project
from annotate.services.annotations import annotations_replace, shapes_validate
from annotate.services.items import ItemRejected, item_create
from annotate.services.labeling import items_make_ground_truth
from annotate.services.pipeline import pipeline_update
from annotate.services.projects import project_create

DEMO_PROJECT = "Demo: shapes"
DEMO_PASSWORD = "alweb-demo"
DEMO_USERS = {
    "owner": Role.OWNER,
    "developer": Role.DEVELOPER,
    "manager": Role.ANNOTATION_MANAGER,
    "reviewer": Role.REVIEWER,
    "annotator": Role.ANNOTATOR,
}


class Command(BaseCommand):
    help = "Create (once) a demo project with generated images and one user per role."

    def add_arguments(self, parser):
        # 100 approved with a 70/15/15 split (by hash of the item id: 70/16/14
        # in a fresh database): 14 test items, above the quality gate's
        # minimum of 10, so the first training can be promoted.
        parser.add_argument("--items", type=int, default=160)
        parser.add_argument("--approved", type=int, default=100)
        parser.add_argument("--url", default="http://127.0.0.1:8000/")

    def handle(self, *args, items: int, approved: int, url: str, **options):
        users = self._users()
        project = Project.objects.filter(name=DEMO_PROJECT).order_by("id").first()
        if project is None:
            project = self._project(users, items, approved)
            self.stdout.write(self.style.SUCCESS(f"Created project “{project.name}”."))
        else:
            self.stdout.write(f"Project “{project.name}” exists; left as it is.")
        for username, role in DEMO_USERS.items():
            Membership.objects.get_or_create(
                project=project, user=users[username], defaults={"role": role}
            )
        self.stdout.write(
            f"\nOpen {url} and log in as one of (password {DEMO_PASSWORD!r}):"
        )
        for username, role in DEMO_USERS.items():
            self.stdout.write(f"  {username:10} {role.label}")

    def _users(self):
        User = get_user_model()
        users = {}
        for username in DEMO_USERS:
            user, created = User.objects.get_or_create(username=username)
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            users[username] = user
        return users

    @transaction.atomic
    def _project(self, users, n_items: int, n_approved: int) -> Project:
        project = project_create(
            owner=users["owner"],
            name=DEMO_PROJECT,
            labels=list(DEMO_LABELS),
            kinds=["box", "polygon"],
            description="Generated circles, rectangles and triangles on textured "
            "backgrounds. Rectangles are boxes; circles and triangles polygons.",
        )
        pipeline_update(
            project=project,
            values={"split_train": 0.7, "split_val": 0.15, "split_test": 0.15},
        )
        created: list[tuple[Item, list[dict]]] = []
        for seed in range(n_items):
            img = synthetic_image(seed)
            try:
                item = item_create(
                    project=project,
                    data=img.png,
                    name=f"shapes_{seed:04d}.png",
                    actor=users["owner"],
                )
            except ItemRejected:
                continue
            created.append((item, img.shapes))
        ground_truth = []
        for item, shapes in created[:n_approved]:
            cleaned = shapes_validate(item=item, shapes=shapes)
            annotations_replace(item=item, shapes=cleaned, author=users["annotator"])
            Item.objects.filter(pk=item.pk).update(last_annotator=users["annotator"])
            ground_truth.append(item.pk)
        items_make_ground_truth(
            project=project, item_ids=ground_truth, actor=users["reviewer"]
        )
        return project
