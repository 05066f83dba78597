"""Projects, members, items, annotations, tasks and the event log (background runs
live in the runs app)."""

import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast

from alweb.roles import Role
from ml import thresholds

KIND_CHOICES = [("box", "Box"), ("polygon", "Polygon")]


class Project(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=5000)
    # Ordered label class names; the order is the class index in YOLO exports.
    labels = models.JSONField(default=list)
    # Annotation kinds allowed in this project: a subset of {"box", "polygon"}.
    kinds = models.JSONField(default=list)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # How many ground-truth items the team wants (the Work page's progress bar).
    goal = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        if not isinstance(self.labels, list) or not self.labels:
            raise ValidationError({"labels": "at least one label is required"})
        if not all(isinstance(label, str) and label.strip() for label in self.labels):
            raise ValidationError({"labels": "labels must be non-empty strings"})
        if len(set(self.labels)) != len(self.labels):
            raise ValidationError({"labels": "labels must be unique"})
        if any(len(label) > 64 for label in self.labels):
            raise ValidationError({"labels": "a label is at most 64 characters"})
        if len(self.labels) > 200:
            raise ValidationError({"labels": "at most 200 labels"})
        allowed = {k for k, _ in KIND_CHOICES}
        if (
            not isinstance(self.kinds, list)
            or not self.kinds
            or not set(self.kinds) <= allowed
            or len(set(self.kinds)) != len(self.kinds)
        ):
            raise ValidationError(
                {"kinds": "kinds must be a non-empty subset of box, polygon"}
            )


class Pipeline(models.Model):
    """Labelling-side settings of a project: the selection strategy (and its cold
    start) and the split of ground truth. The training settings (model and
    comparison configuration, triggers) are models_mgmt.TrainingSettings."""

    project = models.OneToOneField(
        Project, on_delete=models.CASCADE, related_name="pipeline"
    )
    strategy = models.CharField(max_length=40, default="hybrid")
    strategy_params = models.JSONField(default=dict, blank=True)
    cold_start_strategy = models.CharField(max_length=40, default="diversity")
    # How many batches the strategy has selected (one per new best model): keeps
    # the random control share exact over batches (ml.batching.control_slots).
    selection_batches = models.PositiveIntegerField(default=0)
    selection_model_id = models.PositiveBigIntegerField(null=True, blank=True)
    split_train = models.FloatField(default=0.8)
    split_val = models.FloatField(default=0.1)
    split_test = models.FloatField(default=0.1)
    split_seed = models.IntegerField(default=0)
    # Share of items labelled by two annotators before review (ml.consensus).
    consensus_share = models.FloatField(default=0.0)
    # Error-analysis thresholds of the OOD score (ml.thresholds).
    ood_threshold = models.FloatField(default=thresholds.DEFAULTS["ood"])
    drift_warn_share = models.FloatField(
        default=thresholds.DEFAULTS["drift_warn_share"]
    )
    # Share of label claims that are hidden checks: an approved item served
    # again, the submit scored against its ground truth (never changed).
    check_share = models.FloatField(default=0.0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(split_train__gt=0)
                & Q(split_val__gte=0)
                & Q(split_test__gte=0),
                name="pipeline_split_ratios_non_negative",
            ),
            models.CheckConstraint(
                condition=Q(consensus_share__gte=0) & Q(consensus_share__lte=1),
                name="pipeline_consensus_share_unit",
            ),
            models.CheckConstraint(
                condition=Q(check_share__gte=0) & Q(check_share__lte=1),
                name="pipeline_check_share_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"pipeline of {self.project}"


class Membership(models.Model):
    project = models.ForeignKey(
        Project, on_delete=models.CASCADE, related_name="memberships"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=32, choices=[(r.value, r.label) for r in Role])
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["project", "user"], name="membership_unique"
            ),
            models.CheckConstraint(
                condition=Q(role__in=[r.value for r in Role]),
                name="membership_role_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.project} as {self.role}"


class ItemStatus(models.TextChoices):
    UNLABELED = "unlabeled", "Unlabeled"
    LABELING = "labeling", "Labeling"
    REVIEW = "review", "In review"
    DONE = "done", "Done"
    # Set aside by a manager: offered to nobody until sent to labelling again.
    SKIPPED = "skipped", "Skipped"


class ItemPin(models.TextChoices):
    NONE = "", "None"
    PINNED = "pinned", "Pinned to the front"
    DEMOTED = "demoted", "Demoted to the back"


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VAL = "val", "Val"
    TEST = "test", "Test"


def item_upload_to(instance: "Item", filename: str) -> str:
    # Never use the uploaded name as a path: a generated name with a detected extension.
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"items/{instance.project_id}/{uuid.uuid4().hex}.{ext}"


class Item(models.Model):
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="items")
    file = models.FileField(upload_to=item_upload_to, max_length=255)
    thumbnail = models.FileField(upload_to=item_upload_to, max_length=255, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    # The upload's relative path ("cam1/frame_0001.png" inside a zip or under an
    # imported folder; the file name for a plain upload), folder names kept,
    # cleaned (no "..", no leading "/", no controls). Only ever display text and
    # the export's file_name, never a storage path.
    source_path = models.CharField(max_length=1024, blank=True, default="")
    image_format = models.CharField(max_length=10)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size_bytes = models.PositiveBigIntegerField(default=0)
    checksum = models.CharField(max_length=64)  # sha256 of the stored bytes
    status = models.CharField(
        max_length=16, choices=ItemStatus.choices, default=ItemStatus.UNLABELED
    )
    # NULL means "no split yet" (a constraint ties it to status done).
    split = models.CharField(  # noqa: DJ001
        max_length=8, choices=Split.choices, null=True, blank=True
    )
    priority = models.FloatField(default=0.0)
    # Why the item has its priority (set with it by the model loop): e.g.
    # {"strategy": "entropy", "components": {...}, "random_control": false}.
    priority_reason = models.JSONField(default=dict, blank=True)
    # The scores behind the priority besides `uncertainty`, from the last scoring
    # (ml.scores: "rare", "disagreement", "instability"), each in [0, 1].
    score_components = models.JSONField(default=dict, blank=True)
    # Its "ood" score (ml.ood; absent: NULL) as a column the database keeps
    # (written by nothing else): the drift panel counts it by ranges of
    # item_created_ood_idx and the items list filters on it, where they read
    # and parsed every item's JSON (the drift panel at 100k items, half of
    # them scored: 85 ms of CPU on SQLite, 18 with the column, #15).
    ood = models.GeneratedField(
        expression=Cast(
            KeyTextTransform("ood", "score_components"), models.FloatField()
        ),
        output_field=models.FloatField(null=True, blank=True),
        db_persist=True,
    )
    uncertainty = models.FloatField(null=True, blank=True)
    embedding = models.JSONField(null=True, blank=True)
    # Model version id that produced the score (no FK: annotate never imports
    # models_mgmt).
    scored_by = models.PositiveBigIntegerField(null=True, blank=True)
    scored_at = models.DateTimeField(null=True, blank=True)
    # Who submitted the current annotations last (a rejected item is offered to them).
    last_annotator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    review_comment = models.TextField(blank=True, max_length=5000)
    # Set by a manager: the item waits in this annotator's queue only (first).
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # A manager's pin: the model loop leaves the priority of a pinned item alone.
    pin = models.CharField(
        max_length=8, choices=ItemPin.choices, default=ItemPin.NONE, blank=True
    )
    # The split of a done item reopened for correction: given back on approval.
    held_split = models.CharField(  # noqa: DJ001
        max_length=8, choices=Split.choices, null=True, blank=True
    )
    rejected_at = models.DateTimeField(null=True, blank=True)
    # Bumped on every write of the item's annotations: optimistic concurrency.
    version = models.PositiveIntegerField(default=1)
    approved_at = models.DateTimeField(null=True, blank=True)
    # Consensus: the first of two label tasks (its shapes wait on the task's
    # draft, hidden from the second annotator), and the agreement of the two
    # versions once the second is submitted (ml.consensus.agreement).
    consensus_first = models.ForeignKey(
        "Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    agreement = models.FloatField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "checksum"], name="item_unique_checksum"
            ),
            models.CheckConstraint(
                condition=Q(split__isnull=True) | Q(split__in=[s.value for s in Split]),
                name="item_split_valid",
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in ItemStatus]),
                name="item_status_valid",
            ),
            # Only ground truth carries a split.
            models.CheckConstraint(
                condition=Q(split__isnull=True) | Q(status=ItemStatus.DONE),
                name="item_split_only_when_done",
            ),
            models.CheckConstraint(
                condition=Q(width__gt=0) & Q(height__gt=0), name="item_size_positive"
            ),
        ]
        indexes = [
            models.Index(
                fields=["project", "status", "-priority", "id"], name="item_queue_idx"
            ),
            # With the OOD score last: the drift panel's counts per week are
            # ranges of it. (SQLite 3.40 still reads each row there: its
            # planner does not count a generated column as covered.)
            models.Index(
                fields=["project", "created_at", "id", "ood"],
                name="item_created_ood_idx",
            ),
            # The split counts, and the COUNT of a split filter (which adds the
            # status: only ground truth carries a split) from the index alone.
            models.Index(
                fields=["project", "split", "status"], name="item_split_status_idx"
            ),
            # The items page sorted by priority across all statuses. (Not the
            # ascending order too: a second priority index makes the priority
            # rewrite of 83,000 items take 0.6 s more CPU and twice the wall
            # time on SQLite, holding the write lock the claims wait for, #15.)
            models.Index(
                fields=["project", "-priority", "id"], name="item_priority_idx"
            ),
            # The file-name search's COUNT (LIKE '%q%') scans this, not the rows.
            models.Index(fields=["project", "original_name"], name="item_name_idx"),
            # The items a manager assigned to a user, in queue order: without
            # it SQLite walks item_queue_idx over every unlabeled item of the
            # project for each label claim (67 ms at 100k items).
            models.Index(
                fields=["assigned_to", "project", "status", "-priority", "id"],
                name="item_assigned_queue_idx",
            ),
            # Items approved since the last training (the training triggers,
            # run after every approval): not a walk over the project's items.
            models.Index(
                fields=["project", "status", "approved_at"], name="item_approved_idx"
            ),
            # The review queue's consensus items whose versions disagree
            # (agreement < 1): a range of this index, not a walk over every
            # item waiting for review (selectors_queue._review_candidates).
            models.Index(
                fields=["project", "status", "agreement"], name="item_review_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or f"item {self.pk}"


class AnnotationSource(models.TextChoices):
    HUMAN = "human", "Human"
    MODEL = "model", "Model"


# An item's ground-truth shapes: the human ones and the accepted model ones
# (not predictions written onto it, e.g. by a predictions import).
GROUND_TRUTH_ROWS = models.Q(source=AnnotationSource.HUMAN) | models.Q(accepted=True)


class Annotation(models.Model):
    """One shape on an item: the item's current annotation set (human or model)."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="annotations")
    kind = models.CharField(max_length=16, choices=KIND_CHOICES)
    label = models.CharField(max_length=64)
    # {"bbox": [x, y, w, h]} or {"points": [[x, y], ...]} in original-image pixels.
    geometry = models.JSONField()
    area = models.FloatField(default=0.0)
    source = models.CharField(
        max_length=8, choices=AnnotationSource.choices, default=AnnotationSource.HUMAN
    )
    model_version_id = models.PositiveBigIntegerField(null=True, blank=True)
    # The version's name as users know it ("v3"), as the loop wrote it.
    model_name = models.CharField(max_length=100, blank=True, default="")
    confidence = models.FloatField(null=True, blank=True)
    class_scores = models.JSONField(null=True, blank=True)
    # A model shape a person submitted unchanged: ground truth that keeps its
    # model source (GROUND_TRUTH_ROWS); a new prediction never replaces it.
    accepted = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["box", "polygon"]), name="annotation_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(
                    source=AnnotationSource.HUMAN, model_version_id__isnull=True
                )
                | Q(source=AnnotationSource.MODEL, model_version_id__isnull=False),
                name="annotation_source_consistent",
            ),
        ]
        indexes = [
            # Covers the labels of the ground truth per split (every approval
            # counts them: selectors.split_label_counts) without reading each
            # shape's row and its geometry: 23 -> 14 ms at 100k items.
            models.Index(fields=["item", "label"], name="annotation_item_label_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.label} on item {self.item_id}"

    @property
    def source_ref(self) -> str:
        """The API's source string: "human" or "model:<model version id>"."""
        if self.source == AnnotationSource.MODEL:
            return f"model:{self.model_version_id}"
        return "human"


class TaskKind(models.TextChoices):
    LABEL = "label", "Label"
    REVIEW = "review", "Review"


class TaskStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    SUBMITTED = "submitted", "Submitted"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    RELEASED = "released", "Released"
    EXPIRED = "expired", "Expired"


class Task(models.Model):
    """A claim (lease) on an item for labelling or review, and its outcome."""

    item = models.ForeignKey(Item, on_delete=models.CASCADE, related_name="tasks")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="tasks")
    kind = models.CharField(max_length=8, choices=TaskKind.choices)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="tasks"
    )
    status = models.CharField(
        max_length=12, choices=TaskStatus.choices, default=TaskStatus.ACTIVE
    )
    lease_expires_at = models.DateTimeField()
    # Autosaved work in progress (API shape list) and the item version it started from.
    draft = models.JSONField(null=True, blank=True)
    draft_saved_at = models.DateTimeField(null=True, blank=True)
    base_version = models.PositiveIntegerField(default=1)
    # Bumped on every autosave; a client that sends an older one gets 409.
    draft_version = models.PositiveIntegerField(default=0)
    # The client id of the submit that ended this task: a retry that sends it
    # again gets the same answer instead of a 409 (idempotent submit).
    submit_client_id = models.CharField(max_length=64, blank=True, default="")
    comment = models.TextField(blank=True, max_length=5000)
    # Set on submit of a label task (NULL before these were stored): the shapes
    # submitted, the model pre-annotations the item carried, and how many of
    # those were submitted unchanged.
    shape_count = models.PositiveIntegerField(null=True, blank=True)
    model_shapes = models.PositiveIntegerField(null=True, blank=True)
    model_kept = models.PositiveIntegerField(null=True, blank=True)
    # Of a consensus label task: its version's agreement with the other one.
    agreement = models.FloatField(null=True, blank=True)
    # A hidden check (Pipeline.check_share): a label task on a ground-truth item,
    # its submit scored against the ground truth (ml.consensus.agreement) and
    # never applied to the item.
    is_check = models.BooleanField(default=False)
    check_score = models.FloatField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # The queue's invariant: one active lease per item.
            models.UniqueConstraint(
                fields=["item"],
                condition=Q(status=TaskStatus.ACTIVE),
                name="task_one_active_per_item",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=TaskKind.values), name="task_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in TaskStatus]),
                name="task_status_valid",
            ),
        ]
        indexes = [
            # The user's active task of a kind (every claim asks): with kind in
            # the index SQLite no longer walks the project's tasks.
            models.Index(
                fields=["assignee", "status", "kind"], name="task_assignee_kind_idx"
            ),
            models.Index(fields=["status", "lease_expires_at"], name="task_lease_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} task {self.pk} on item {self.item_id}"


# Tags, the event log and the review models kept in modules of their own
# (annotate/models.py stays short).
from annotate.models_events import TAG_MAX_LENGTH, Event, ItemTag  # noqa: E402, F401
from annotate.models_review import FlagStatus, LabelErrorFlag  # noqa: E402, F401
