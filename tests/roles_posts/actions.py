"""The form POST actions of tests/test_roles_matrix_posts.py: each knows its
URL, a valid body, and how to read back what an allowed POST changed."""

from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from alweb.roles import Role


@dataclass(frozen=True)
class Ctx:
    project: Any
    users: dict
    outsider: Any
    versions: tuple = ()


def _pipeline(ctx):
    from annotate.models import Pipeline

    return Pipeline.objects.get(project=ctx.project)


def _member(ctx, user):
    return ctx.project.memberships.filter(user=user).first()


# Each action: set-up for one attempt (returns a state), the POST it sends, and
# whether its intended effect happened. `n` numbers the attempts of a test.


class CreateProject:
    route = "annotate:project-list"
    ok = 302

    def setup(self, ctx, n):
        return f"Made by attempt {n}"

    def url(self, ctx, state):
        return reverse(self.route)

    def data(self, ctx, state):
        return {"name": state, "labels": "car, dog", "kinds": ["box"]}

    def happened(self, ctx, state, user):
        from annotate.models import Project

        project = Project.objects.filter(name=state).first()
        return project is not None and project.memberships.get().user == user


class Upload:
    route = "annotate:project-upload"
    ok = 200

    def setup(self, ctx, n):
        return n  # a new image each time: a duplicate would be skipped

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        from tests.api.helpers import png, upload_file

        return {"files": [upload_file(f"upload-{state}.png", png(500 + state))]}

    def happened(self, ctx, state, user):
        return ctx.project.items.filter(original_name=f"upload-{state}.png").exists()


class DataImport:
    """A COCO file giving the first item a box: it happened when the box is there."""

    route = "annotate:project-data"
    ok = 200

    def setup(self, ctx, n):
        from annotate.models import Annotation

        Annotation.objects.filter(
            item=ctx.project.items.order_by("id").first()
        ).delete()
        return n

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        import json

        from tests.api.helpers import upload_file

        item = ctx.project.items.order_by("id").first()
        doc = {
            "images": [{"id": 1, "file_name": item.original_name}],
            "categories": [{"id": 1, "name": ctx.project.labels[0]}],
            "annotations": [
                {"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5 + state]}
            ],
        }
        return {
            "format": "coco",
            "as": "predictions",
            "split": "keep",
            "categories": "refuse",
            "file": upload_file("c.json", json.dumps(doc).encode()),
        }

    def happened(self, ctx, state, user):
        from annotate.models import Annotation

        item = ctx.project.items.order_by("id").first()
        return [a.geometry for a in Annotation.objects.filter(item=item)] == [
            {"bbox": [1, 1, 5, 5 + state]}
        ]


class MemberAdd:
    route = "annotate:project-members"
    ok = 302

    def setup(self, ctx, n):
        from tests.factories import UserFactory

        return UserFactory(username=f"joiner{n}")

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {"username": state.username, "role": "annotator"}

    def happened(self, ctx, state, user):
        member = _member(ctx, state)
        return member is not None and member.role == Role.ANNOTATOR


class MemberChange(MemberAdd):
    def setup(self, ctx, n):
        from tests.factories import UserFactory, add_member

        return add_member(ctx.project, Role.ANNOTATOR, UserFactory(username=f"m{n}"))

    def data(self, ctx, state):
        return {"username": state.username, "role": "reviewer"}

    def happened(self, ctx, state, user):
        return _member(ctx, state).role == Role.REVIEWER


class MemberRemove(MemberChange):
    def data(self, ctx, state):
        return {"action": "remove", "user_id": state.pk}

    def happened(self, ctx, state, user):
        return _member(ctx, state) is None


class PipelineEdit:
    route = "models_mgmt:project-settings"
    ok = 302

    def setup(self, ctx, n):
        return 1000 + n

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {
            "strategy": "margin",
            "cold_start_strategy": "random",
            "mc_epochs": "3",
            "cc_metric": "map50",
            "trigger_kpi": "{}",
            "trigger_cron": "",
            "trigger_every_n_approved": "",
            "split_train": "0.7",
            "split_val": "0.2",
            "split_test": "0.1",
            "split_seed": str(state),
        }

    def happened(self, ctx, state, user):
        pipeline = _pipeline(ctx)
        return (pipeline.split_seed, pipeline.strategy) == (state, "margin")


class LabelsEdit(PipelineEdit):
    def setup(self, ctx, n):
        return f"extra{n}"

    def data(self, ctx, state):
        ctx.project.refresh_from_db()
        return {"action": "labels", "labels": ", ".join([*ctx.project.labels, state])}

    def happened(self, ctx, state, user):
        ctx.project.refresh_from_db()
        return state in ctx.project.labels


class TrainNow:
    route = "models_mgmt:train"
    ok = 302

    def setup(self, ctx, n):
        from models_mgmt.models import ModelVersion

        return set(ModelVersion.objects.values_list("pk", flat=True))

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {}

    def happened(self, ctx, state, user):
        from models_mgmt.models import ModelVersion

        new = ModelVersion.objects.exclude(pk__in=state)
        return [(v.project_id, v.created_by_id, v.status) for v in new] == [
            (ctx.project.pk, user.pk, "done")  # the fake backend trained it
        ]


class Promote:
    route = "models_mgmt:promote"
    ok = 302

    def setup(self, ctx, n):
        for version in ctx.versions:
            version.refresh_from_db()
        return next(v for v in ctx.versions if not v.is_best)

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk, state.pk])

    def data(self, ctx, state):
        return {}

    def happened(self, ctx, state, user):
        state.refresh_from_db()
        return state.is_best


class Claim:
    """The no-script claim form of the label or review page."""

    ok = 302

    def __init__(self, route, kind, status):
        self.route, self.kind, self.status = route, kind, status

    def setup(self, ctx, n):
        from annotate.models import Item
        from tests.factories import make_items

        item = make_items(ctx.project, 1, start_seed=700 + n)[0]
        Item.objects.filter(pk=item.pk).update(status=self.status)
        return item

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {}

    def happened(self, ctx, state, user):
        from annotate.models import Task

        return Task.objects.filter(
            assignee=user, kind=self.kind, status="active", project=ctx.project
        ).exists()


class ReleaseClaim:
    route = "annotate:task-release"
    ok = 302

    def setup(self, ctx, n):
        from annotate.services.queue import queue_claim_next
        from tests.factories import make_items

        make_items(ctx.project, 1, start_seed=800 + n)
        return queue_claim_next(
            project=ctx.project, user=ctx.users[Role.ANNOTATOR], kind="label"
        )

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk, state.pk])

    def data(self, ctx, state):
        return {}

    def happened(self, ctx, state, user):
        state.refresh_from_db()
        return state.status == "released"


class BulkSkip:
    route = "annotate:project-items-bulk"
    ok = 302

    def setup(self, ctx, n):
        from tests.factories import make_items

        return make_items(ctx.project, 2, start_seed=900 + 2 * n)

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {"action": "skip", "items": [i.pk for i in state], "status": ""}

    def happened(self, ctx, state, user):
        from annotate.models import Item

        statuses = Item.objects.filter(pk__in=[i.pk for i in state])
        return set(statuses.values_list("status", flat=True)) == {"skipped"}


class BulkAssign(BulkSkip):
    def data(self, ctx, state):
        annotator = ctx.users[Role.ANNOTATOR]
        return {"action": "assign", "items": [state[0].pk], "assign_to": annotator.pk}

    def happened(self, ctx, state, user):
        state[0].refresh_from_db()
        return state[0].assigned_to == ctx.users[Role.ANNOTATOR]


class Reopen:
    route = "annotate:project-item-reopen"
    ok = 302

    def setup(self, ctx, n):
        from annotate.services.labeling import items_make_ground_truth
        from tests.factories import make_items

        (item,) = make_items(ctx.project, 1, start_seed=950 + n)
        items_make_ground_truth(project=ctx.project, item_ids=[item.pk])
        return item

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk, state.pk])

    def data(self, ctx, state):
        return {"comment": "fix it"}

    def happened(self, ctx, state, user):
        state.refresh_from_db()
        return state.status == "unlabeled" and state.held_split is not None


class RunAction:
    """Cancel or retry an export run (the permission of its kind: EXPORT;
    training runs are covered in tests/runs/test_runs_api.py)."""

    ok = 302

    def __init__(self, route, status):
        self.route, self.status = route, status

    def setup(self, ctx, n):
        from runs.models import Job

        # One active run per kind: end what an earlier attempt left queued.
        Job.objects.filter(
            project=ctx.project, kind="export", status__in=["queued", "running"]
        ).update(status="cancelled")
        return Job.objects.create(
            project=ctx.project,
            kind="export",
            status=self.status,
            task="annotate.tasks.export_run",
            queue="work",
            params={"format": "coco"},
        )

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk, state.pk])

    def data(self, ctx, state):
        return {}

    def happened(self, ctx, state, user):
        from runs.models import Job

        state.refresh_from_db()
        if self.route.endswith("cancel"):
            return state.status == "cancelled"
        return Job.objects.filter(retry_of=state).exists()


class RegisterBase:
    route = "models_mgmt:register-base"
    ok = 302

    def setup(self, ctx, n):
        return f"pretrained-{n}"

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        from django.core.files.uploadedfile import SimpleUploadedFile

        weights = SimpleUploadedFile("yolov8n.pt", b"\x80fake pretrained weights")
        return {"weights": weights, "name": state}

    def happened(self, ctx, state, user):
        from models_mgmt.models import ModelVersion

        return ModelVersion.objects.filter(
            project=ctx.project, name=state, is_base=True, created_by=user
        ).exists()


class BacktestStart:
    route = "models_mgmt:backtests"
    ok = 302

    def setup(self, ctx, n):
        from runs.models import Job

        # One active backtest per project: end what an earlier attempt left.
        Job.objects.filter(project=ctx.project, kind="backtest").update(
            status="cancelled"
        )
        return set(Job.objects.filter(kind="backtest").values_list("pk", flat=True))

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {"strategies": ["entropy"], "initial": 2, "batch": 1, "rounds": 1,
                "seeds": 1}  # fmt: skip

    def happened(self, ctx, state, user):
        from runs.models import Job

        new = Job.objects.filter(kind="backtest").exclude(pk__in=state)
        return [(j.project_id, j.created_by_id) for j in new] == [
            (ctx.project.pk, user.pk)
        ]


class RollBack:
    route = "models_mgmt:roll-back"
    ok = 302

    def setup(self, ctx, n):
        from models_mgmt.models import ModelVersion

        first, second = ctx.versions
        ModelVersion.objects.filter(project=ctx.project).update(
            is_best=False, promoted_from=None
        )
        ModelVersion.objects.filter(pk=second.pk).update(
            is_best=True, promoted_from=first
        )
        return first

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        return {}

    def happened(self, ctx, state, user):
        state.refresh_from_db()
        return state.is_best
