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


def bare_item_rows(
    project,
    n: int,
    *,
    start: int = 0,
    size: tuple[int, int] = (640, 480),
    name: str = "img_{}.png",
    splits: tuple[str, ...] = (),
    **fields,
) -> list[Item]:
    """n unsaved items (numbered from start, named name.format(i), PNG of
    size) with no image file, for bulk_create: what an import or an export
    that never opens the images needs. splits are cycled over the items;
    fields (status=...) are set on each."""
    fields.setdefault("created_at", timezone.now())
    return [
        Item(
            project=project,
            file=f"items/{project.pk}/{i}.png",
            original_name=name.format(i),
            image_format="PNG",
            width=size[0],
            height=size[1],
            checksum=f"{i:064x}",
            **({"split": splits[i % len(splits)]} if splits else {}),
            **fields,
        )
        for i in range(start, start + n)
    ]
