"""Deleting a project removes its stored images, exports, model weights and run
folders once the deletion commits (and keeps them all if it rolls back), and
records who deleted it where the record outlives the project."""

import logging
from pathlib import Path

import pytest
from django.contrib.admin.models import DELETION, LogEntry
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction

from annotate.models import Project
from annotate.services.projects import project_delete
from models_mgmt.models import ModelStatus, ModelVersion
from models_mgmt.services.data import run_dir
from tests.factories import UserFactory, make_items, make_project


@pytest.fixture
def stored(db):
    """A project with items, an export file, a model version with weights and its
    run folders, and the paths of all of them."""
    owner = UserFactory(username="delete-owner")
    project = make_project(owner, name="Doomed")
    items = make_items(project, 2)
    export = default_storage.save(f"exports/{project.pk}/x.json", ContentFile(b"{}"))
    version = ModelVersion(
        project=project, number=1, name="v1", status=ModelStatus.DONE
    )
    version.weights.save("v1.pt", ContentFile(b"\x80weights"), save=False)
    version.save()
    folders = [run_dir("model", version.pk), run_dir("eval", version.pk)]
    for folder in folders:
        (folder / "results.csv").write_text("epoch\n1\n")
    paths = [Path(i.file.path) for i in items] + [Path(i.thumbnail.path) for i in items]
    paths += [Path(default_storage.path(export)), Path(version.weights.path)]
    paths += folders
    assert all(p.exists() for p in paths)
    return project, owner, paths


def test_the_files_go_once_the_deletion_commits(
    stored, django_capture_on_commit_callbacks, caplog
):
    project, owner, paths = stored
    pk = project.pk
    with caplog.at_level(logging.INFO, logger="alweb.audit"):
        with django_capture_on_commit_callbacks(execute=True):
            project_delete(project=project, actor=owner)
    assert not Project.objects.filter(pk=pk).exists()
    assert [p for p in paths if p.exists()] == []
    assert any(
        r.name == "alweb.audit" and "deleted by delete-owner (2 items)" in r.message
        for r in caplog.records
    )
    entry = LogEntry.objects.get(object_id=str(pk))
    assert (entry.user_id, entry.action_flag, entry.object_repr) == (
        owner.pk,
        DELETION,
        "Doomed",
    )


def test_the_files_stay_when_the_deletion_rolls_back(
    stored, django_capture_on_commit_callbacks
):
    project, owner, paths = stored
    pk = project.pk
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            project_delete(project=project, actor=owner)
            raise RuntimeError("the caller's transaction fails")
    assert Project.objects.filter(pk=pk).exists()
    assert all(p.exists() for p in paths)
    assert not LogEntry.objects.filter(object_id=str(pk)).exists()
