"""factory_boy factories and small builders shared by the Django tests."""

import factory
from django.contrib.auth import get_user_model
from django.utils import timezone

from alweb.roles import Role
from annotate.demo_data import DEMO_LABELS, synthetic_image
from annotate.models import Item, Membership
from annotate.services.items import item_create
from annotate.services.projects import project_create


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(self, create, extracted, **kwargs):
        self.set_password(extracted or "pw-for-tests-1")
        if create:
            self.save(update_fields=["password"])


def make_project(owner=None, *, name="P", labels=None, kinds=None):
    owner = owner or UserFactory()
    return project_create(
        owner=owner,
        name=name,
        labels=list(labels or DEMO_LABELS),
        kinds=list(kinds or ["box", "polygon"]),
    )


def add_member(project, role: Role, user=None):
    user = user or UserFactory()
    Membership.objects.update_or_create(
        project=project, user=user, defaults={"role": role}
    )
    return user


def make_items(project, n: int, *, start_seed: int = 0, actor=None, size=(96, 72)):
    return [
        item_create(
            project=project,
            data=synthetic_image(start_seed + i, *size).png,
            name=f"img_{start_seed + i}.png",
            actor=actor,
        )
        for i in range(n)
    ]


def bare_item_rows(project, n: int) -> list[Item]:
    """n unsaved items img_<i>.png (640x480 PNG) with no image file, for
    bulk_create: what an import that never opens the images needs."""
    now = timezone.now()
    return [
        Item(
            project=project,
            file=f"items/{project.pk}/{i}.png",
            original_name=f"img_{i}.png",
            image_format="PNG",
            width=640,
            height=480,
            checksum=f"{i:064x}",
            created_at=now,
        )
        for i in range(n)
    ]
