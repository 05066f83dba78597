"""The demo command: a user per role, images, ground truth with splits; idempotent."""

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command

from alweb.roles import Role
from annotate.management.commands.demo import DEMO_PASSWORD, DEMO_PROJECT, DEMO_USERS
from annotate.models import Annotation, Item, Membership, Project


@pytest.mark.django_db
def test_demo_creates_a_project_with_every_role_and_is_idempotent(capsys):
    call_command("demo", items=24, approved=12)
    out = capsys.readouterr().out
    project = Project.objects.get(name=DEMO_PROJECT)
    assert Item.objects.filter(project=project).count() == 24
    done = Item.objects.filter(project=project, status="done")
    assert done.count() == 12
    assert not done.filter(split__isnull=True).exists()
    assert set(done.values_list("split", flat=True)) == {"train", "val", "test"}
    assert Annotation.objects.filter(item__project=project, kind="box").exists()
    assert Annotation.objects.filter(item__project=project, kind="polygon").exists()
    roles = dict(
        Membership.objects.filter(project=project).values_list("user__username", "role")
    )
    assert roles == {u: r.value for u, r in DEMO_USERS.items()}
    assert set(roles.values()) == {r.value for r in Role}
    for username in DEMO_USERS:
        assert authenticate(username=username, password=DEMO_PASSWORD) is not None
        assert username in out
    assert DEMO_PASSWORD in out

    call_command("demo", items=24, approved=12)
    assert Project.objects.filter(name=DEMO_PROJECT).count() == 1
    assert Item.objects.filter(project=project).count() == 24
