"""Output serializers of the annotate API, one per entity: each gives both the
response body and its schema (API.md)."""

from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alweb.auth import project_role
from annotate.explain import priority_explanation
from annotate.models import (
    KIND_CHOICES,
    Annotation,
    AnnotationSource,
    ItemStatus,
    Split,
    TaskKind,
)
from annotate.selectors_consensus import item_consensus_versions
from annotate.shapes import shape_geometry
from runs.models import JobKind, JobStatus


class ProjectSerializer(serializers.Serializer):
    """A project, with the caller's role in it (the request in the context)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    labels = serializers.ListField(child=serializers.CharField())
    kinds = serializers.ListField(child=serializers.CharField())
    role = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_role(self, project) -> str | None:
        request = self.context.get("request")
        return project_role(request.user, project) if request else None


class MemberSerializer(serializers.Serializer):
    user_id = serializers.IntegerField()
    username = serializers.CharField(source="user.username")
    role = serializers.CharField()


class InviteSerializer(serializers.Serializer):
    """A new member's account and the link where they set their password (it
    works once, until expires_at; it is never shown again)."""

    user_id = serializers.IntegerField()
    username = serializers.CharField()
    role = serializers.CharField()
    invite_url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class AnnotationSerializer(serializers.Serializer):
    """A shape in the API's form with its origin: a stored Annotation, or a shape
    of an autosaved draft (a dict of the same keys)."""

    id = serializers.IntegerField(allow_null=True)
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    label = serializers.CharField()
    bbox = serializers.ListField(
        child=serializers.FloatField(),
        required=False,
        help_text="box: [x, y, width, height] in image pixels",
    )
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()),
        required=False,
        help_text="polygon: [[x, y], ...] in image pixels",
    )
    source = serializers.CharField(help_text='"human" or "model:<model version id>"')
    confidence = serializers.FloatField(allow_null=True)
    author = serializers.CharField(allow_null=True)

    def to_representation(self, instance):
        if isinstance(instance, Annotation):
            data = {
                "id": instance.pk,
                "kind": instance.kind,
                "label": instance.label,
                "source": instance.source_ref,
                "confidence": instance.confidence,
                "author": instance.author.username if instance.author_id else None,
            }
            data.update(instance.geometry)
            return data
        return dict(instance)


def draft_annotations(task, current: list[Annotation]) -> list[dict]:
    """The autosaved draft of `task` in the API's shape; a draft shape that is an
    unchanged model pre-annotation keeps its model source and confidence."""
    by_id = {a.pk: a for a in current}
    out = []
    for shape in task.draft or []:
        geometry = shape_geometry(shape)
        data = {"id": shape.get("id"), "kind": shape["kind"], "label": shape["label"]}
        data.update(geometry)
        previous = by_id.get(shape.get("id"))
        if (
            previous is not None
            and previous.source == AnnotationSource.MODEL
            and previous.label == data["label"]
            and previous.geometry == geometry
        ):
            data.update(source=previous.source_ref, confidence=previous.confidence)
        else:
            data.update(source="human", confidence=None)
        data["author"] = None
        out.append(data)
    return out


class ItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    project = serializers.IntegerField(source="project_id")
    name = serializers.CharField(source="original_name")
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ItemStatus.choices)
    split = serializers.ChoiceField(choices=Split.choices, allow_null=True)
    priority = serializers.FloatField()
    uncertainty = serializers.FloatField(allow_null=True)
    scored_by = serializers.IntegerField(
        allow_null=True, help_text="the model version that scored it"
    )
    version = serializers.IntegerField(
        help_text="bumped on every write of its annotations"
    )
    review_comment = serializers.CharField()
    priority_reason = serializers.DictField(
        help_text="why the item has its priority: strategy, model_version, "
        "model_name, batch, rank, in_batch, control (a random control pick), "
        "components (the scores behind it), at"
    )
    priority_why = serializers.SerializerMethodField(
        help_text="priority_reason in words"
    )
    image_url = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    def get_image_url(self, item) -> str:
        return reverse("api-item-image", kwargs={"item_id": item.pk})

    def get_priority_why(self, item) -> str:
        return priority_explanation(item)

    def to_representation(self, item):
        """The fields above, read directly: DRF's generic walk (source lookups
        and a to_representation call per field) was ~60% of the items list's
        CPU, ~5 ms a page of 50 (#15). The same dict (tests/api/
        test_item_output.py compares it with the generic one); subclasses
        with more fields take the generic path."""
        if type(self) is not ItemSerializer:
            return super().to_representation(item)
        fields = self.fields
        status, split, created = fields["status"], fields["split"], fields["created_at"]
        reason = item.priority_reason
        return {
            "id": int(item.pk),
            "project": int(item.project_id),
            "name": str(item.original_name),
            "width": int(item.width),
            "height": int(item.height),
            "status": status.to_representation(item.status),
            "split": None
            if item.split is None
            else split.to_representation(item.split),
            "priority": float(item.priority),
            "uncertainty": None
            if item.uncertainty is None
            else float(item.uncertainty),
            "scored_by": None if item.scored_by is None else int(item.scored_by),
            "version": int(item.version),
            "review_comment": str(item.review_comment),
            "priority_reason": None
            if reason is None
            else {str(k): v for k, v in reason.items()},
            "priority_why": priority_explanation(item),
            "image_url": self._image_url(item.pk),
            "created_at": None
            if item.created_at is None
            else created.to_representation(item.created_at),
        }

    def _image_url(self, pk) -> str:
        """reverse() once per serializer, then the id put in its place."""
        if not hasattr(self, "_image_url_parts"):
            marker = 987654321987
            url = reverse("api-item-image", kwargs={"item_id": marker})
            self._image_url_parts = url.split(str(marker), 1)
        head, tail = self._image_url_parts
        return f"{head}{pk}{tail}"


class ItemDetailSerializer(ItemSerializer):
    annotations = serializers.SerializerMethodField()
    tags = serializers.SerializerMethodField()

    def get_tags(self, item) -> list[str]:
        return list(item.tags.order_by("name").values_list("name", flat=True))

    @extend_schema_field(AnnotationSerializer(many=True))
    def get_annotations(self, item) -> list[dict]:
        rows = item.annotations.select_related("author")
        return AnnotationSerializer(rows, many=True).data


class ConsensusVersionSerializer(serializers.Serializer):
    annotator = serializers.CharField(allow_null=True)
    task = serializers.IntegerField()
    shapes = serializers.ListField(
        child=serializers.DictField(),
        help_text='as submitted: {"kind", "label", "bbox" | "points"}',
    )


class ConsensusSerializer(serializers.Serializer):
    """Both versions of an item labelled by two annotators, and their agreement
    (ml.consensus.agreement)."""

    agreement = serializers.FloatField()
    versions = ConsensusVersionSerializer(many=True)


# What a hidden check's item shows its annotator (annotate.services.checks).
CHECK_MASK = {
    "status": "labeling",
    "split": None,
    "review_comment": "",
    "priority_reason": {},
    "priority_why": "",
    "uncertainty": None,
    "scored_by": None,
}


class TaskSerializer(serializers.Serializer):
    """A claimed task as the API and the pages show it: its item, the annotations
    to start from (the draft when one was saved), the lease."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    item = serializers.SerializerMethodField()
    annotations = serializers.SerializerMethodField()
    lease_expires_at = serializers.DateTimeField()
    version = serializers.IntegerField(
        source="draft_version", help_text="draft version for PUT draft/"
    )
    comment = serializers.CharField()
    consensus = serializers.SerializerMethodField()

    @extend_schema_field(ConsensusSerializer(allow_null=True))
    def get_consensus(self, task) -> dict | None:
        # The reviewer compares both annotators' versions of a consensus item.
        if task.kind != TaskKind.REVIEW:
            return None
        return item_consensus_versions(item=task.item)

    @extend_schema_field(ItemSerializer)
    def get_item(self, task) -> dict:
        data = ItemSerializer(task.item).data
        if task.is_check:
            # A hidden check looks like any item waiting to be labelled.
            data.update(CHECK_MASK)
        return data

    @extend_schema_field(AnnotationSerializer(many=True))
    def get_annotations(self, task) -> list[dict]:
        if task.is_check and task.draft is None:
            return []  # never the ground truth it is scored against
        current = list(
            Annotation.objects.filter(item=task.item).select_related("author")
        )
        if task.draft is not None:
            return AnnotationSerializer(
                draft_annotations(task, current), many=True
            ).data
        return AnnotationSerializer(current, many=True).data


class PeekItemSerializer(ItemSerializer):
    """An item seen through the peek: its image through the peek's own route,
    valid while the item waits in the caller's queue."""

    def get_image_url(self, item) -> str:
        kind = self.context.get("kind", TaskKind.LABEL)
        url = reverse(
            "api-task-peek-image",
            kwargs={"project_id": item.project_id, "item_id": item.pk},
        )
        return f"{url}?kind={kind}"


class TaskPeekSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    item = serializers.SerializerMethodField()
    annotations = serializers.SerializerMethodField()

    @extend_schema_field(PeekItemSerializer)
    def get_item(self, peek) -> dict:
        return PeekItemSerializer(peek["item"], context={"kind": peek["kind"]}).data

    @extend_schema_field(AnnotationSerializer(many=True))
    def get_annotations(self, peek) -> list[dict]:
        rows = peek["item"].annotations.select_related("author")
        return AnnotationSerializer(rows, many=True).data


class TaskClaimSerializer(serializers.Serializer):
    """An active claim, as a project's managers see it."""

    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    item = serializers.IntegerField(source="item_id")
    assignee = serializers.CharField(source="assignee.username")
    assignee_id = serializers.IntegerField()
    lease_expires_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()


class DraftSavedSerializer(serializers.Serializer):
    saved_at = serializers.DateTimeField(source="draft_saved_at")
    version = serializers.IntegerField(source="draft_version")
    lease_expires_at = serializers.DateTimeField()


class TaskDoneSerializer(serializers.Serializer):
    """A task ended by submit, approve or reject, and its item now."""

    task = serializers.IntegerField()
    status = serializers.CharField()
    item = serializers.SerializerMethodField()

    @extend_schema_field(ItemSerializer)
    def get_item(self, body) -> dict:
        data = ItemSerializer(body["item"]).data
        if body.get("check"):
            # A hidden check's submit answers as any submit would.
            data.update(CHECK_MASK, status="review")
        return data


class TaskReleasedSerializer(serializers.Serializer):
    task = serializers.IntegerField()
    status = serializers.CharField()


class SkippedFileSerializer(serializers.Serializer):
    name = serializers.CharField()
    reason = serializers.CharField()


class UploadReportSerializer(serializers.Serializer):
    created = serializers.ListField(child=serializers.IntegerField())
    skipped = SkippedFileSerializer(many=True)


class ImportResultSerializer(serializers.Serializer):
    """What a COCO import changed: items, shapes, and how they were taken."""

    def get_fields(self):
        # "as" is a Python keyword, so no class attribute can declare it.
        return {
            "items": serializers.IntegerField(),
            "annotations": serializers.IntegerField(),
            "as": serializers.ChoiceField(choices=["ground_truth", "predictions"]),
            "splits_kept": serializers.IntegerField(
                help_text="items that took the split the file names"
            ),
            "splits_frozen": serializers.IntegerField(
                help_text="ground-truth items whose split and status the file would "
                "have changed: kept (a split never changes), shapes replaced"
            ),
            "review": serializers.IntegerField(
                help_text="items put in the review queue (status review in the file)"
            ),
            "labels_added": serializers.ListField(child=serializers.CharField()),
            "items_created": serializers.IntegerField(
                help_text="items made from the images of a Label Studio zip"
            ),
            "converted": serializers.DictField(
                child=serializers.IntegerField(),
                help_text="rle_to_polygons, rle_to_boxes, polygons_to_boxes, "
                "multi_ring_split: annotations converted",
            ),
        }


class ExportJobSerializer(serializers.Serializer):
    """A background export run (runs.Job kind export) and where to poll and fetch."""

    job = serializers.IntegerField(source="pk")
    kind = serializers.ChoiceField(choices=JobKind.choices)
    format = serializers.SerializerMethodField()
    status = serializers.ChoiceField(choices=JobStatus.choices)
    progress = serializers.FloatField()
    error = serializers.CharField()
    attempt = serializers.IntegerField()
    status_url = serializers.SerializerMethodField()
    download_url = serializers.SerializerMethodField()

    def get_format(self, job) -> str | None:
        return job.params.get("format")

    def get_status_url(self, job) -> str:
        return self._absolute("api-export-job", job)

    def get_download_url(self, job) -> str | None:
        if job.status == JobStatus.SUCCEEDED and job.result.get("file"):
            return self._absolute("api-export-download", job)
        return None

    def _absolute(self, name: str, job) -> str:
        url = reverse(name, args=[job.project_id, job.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(url) if request else url


class WorkerSerializer(serializers.Serializer):
    """One annotator's or reviewer's figures over the window (rates per active
    hour; null where there is nothing to divide by)."""

    user_id = serializers.IntegerField()
    username = serializers.CharField()
    items = serializers.IntegerField()
    shapes = serializers.IntegerField()
    active_seconds = serializers.SerializerMethodField()
    items_per_hour = serializers.FloatField(allow_null=True)
    shapes_per_hour = serializers.FloatField(allow_null=True)
    reviewed = serializers.IntegerField()
    rejected = serializers.IntegerField()
    rejection_rate = serializers.FloatField(allow_null=True)
    model_shapes = serializers.IntegerField()
    model_kept = serializers.IntegerField()
    model_kept_rate = serializers.FloatField(allow_null=True)
    consensus = serializers.IntegerField(
        help_text="consensus items whose two versions were compared (label)"
    )
    agreement = serializers.FloatField(
        allow_null=True, help_text="mean agreement with the other annotator"
    )
    checks = serializers.IntegerField(
        help_text="hidden ground-truth checks submitted (label)"
    )
    check_score = serializers.FloatField(
        allow_null=True,
        help_text="mean agreement F1 of the checks with the ground truth",
    )

    def get_active_seconds(self, row) -> float:
        return row.active.total_seconds()


class WorkSerializer(serializers.Serializer):
    """The Work page's figures (annotate.selectors_work.work_summary)."""

    window = serializers.CharField()
    since = serializers.DateTimeField(allow_null=True)
    statuses = serializers.DictField(child=serializers.IntegerField())
    splits = serializers.DictField(child=serializers.IntegerField())
    ground_truth = serializers.IntegerField()
    goal = serializers.IntegerField(allow_null=True)
    goal_percent = serializers.FloatField(allow_null=True)
    queue = serializers.DictField(child=serializers.IntegerField())
    annotators = WorkerSerializer(many=True)
    reviewers = WorkerSerializer(many=True)
    to_ground_truth = serializers.SerializerMethodField()

    @extend_schema_field(
        {
            "type": "object",
            "properties": {
                "count": {"type": "integer"},
                "median_seconds": {"type": "number", "nullable": True},
                "p90_seconds": {"type": "number", "nullable": True},
            },
        }
    )
    def get_to_ground_truth(self, work) -> dict:
        figures = work.to_ground_truth
        return {
            "count": figures["count"],
            **{
                f"{key}_seconds": None if value is None else value.total_seconds()
                for key, value in figures.items()
                if key != "count"
            },
        }


class ItemsTaggedSerializer(serializers.Serializer):
    changed = serializers.IntegerField()
