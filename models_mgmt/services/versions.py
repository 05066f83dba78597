"""Model versions: registering base models, numbering, promotion and roll back."""

from django.core.exceptions import ValidationError
from django.core.files.base import File
from django.db import transaction

from alweb.files import files_delete_on_commit, folders_delete_on_commit
from annotate.models import Project
from annotate.services.events import event_log
from annotate.services.projects import project_lock
from ml import config as ml_config
from models_mgmt.models import Evaluation, ModelStatus, ModelVersion
from models_mgmt.selectors import best_model, next_number
from models_mgmt.services.data import RUN_DIR_KINDS, run_dir_path
from models_mgmt.services.label_errors import label_errors_request
from models_mgmt.services.scoring import scoring_request

MAX_WEIGHTS_BYTES = 500 * 1024 * 1024
ROLL_BACK = "roll back"


def model_files_delete_on_commit(*, project: Project) -> None:
    """Schedule removal of the weights of the project's model versions and their
    run folders (var/runs/model-<id>, eval-<id>) once the project's deletion
    commits; nothing goes if it rolls back."""
    rows = list(
        ModelVersion.objects.filter(project=project).values_list("pk", "weights")
    )
    files_delete_on_commit(
        storage=ModelVersion._meta.get_field("weights").storage,
        names=[weights for _pk, weights in rows],
    )
    folders_delete_on_commit(
        paths=[run_dir_path(kind, pk) for pk, _w in rows for kind in RUN_DIR_KINDS]
    )


@transaction.atomic
def model_version_register_base(
    *,
    project: Project,
    actor,
    architecture: str | None = None,
    weights=None,
    name: str = "",
) -> ModelVersion:
    """Register a base model from an architecture file name or an uploaded .pt.

    Only owners/developers may call this (loading a .pt runs code). The .pt is
    stored as is and only unpickled by a worker when training from it. Raises
    ValidationError naming the field.
    """
    if (architecture is None) == (weights is None):
        raise ValidationError({"architecture": "give either architecture or weights"})
    # The project lock reserves the number until this transaction ends: two
    # registrations at once get two numbers (PostgreSQL's READ COMMITTED).
    project_lock(project_id=project.pk)
    number = next_number(project=project)
    version = ModelVersion(
        project=project,
        number=number,
        name=name or f"base-{number}",
        is_base=True,
        status=ModelStatus.DONE,
        class_names=list(project.labels),
        created_by=actor,
    )
    if architecture is not None:
        try:
            cfg = ml_config.validate_model_config({"architecture": architecture})
        except ValueError as exc:
            raise ValidationError({"architecture": str(exc)}) from None
        version.architecture = cfg["architecture"]
        version.task = ml_config.architecture_task(cfg["architecture"])
    else:
        if not getattr(weights, "name", "").lower().endswith(".pt"):
            raise ValidationError({"weights": "must be a .pt file"})
        if weights.size > MAX_WEIGHTS_BYTES:
            raise ValidationError({"weights": "file too large"})
        head = weights.read(4)
        weights.seek(0)
        if head[:2] != b"PK" and head[:1] != b"\x80":
            raise ValidationError({"weights": "not a PyTorch checkpoint"})
        version.weights.save("base.pt", File(weights), save=False)
    version.full_clean(exclude=["weights"])
    version.save()
    event_log(
        project_id=project.pk,
        actor=actor,
        verb="model_registered",
        model=version.pk,
        name=version.name,
    )
    return version


@transaction.atomic
def model_version_promote(
    *, version: ModelVersion, actor, reason: str = "manual"
) -> None:
    """Make `version` the project's best model (manual promote or roll back).

    Raises ValidationError unless the version finished training with weights. The
    unlabelled pool is re-scored with it after commit.
    """
    project_lock(project_id=version.project_id)  # one promotion at a time
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelStatus.DONE or not version.weights:
        raise ValidationError(
            {"model": "only a finished version with weights can be best"}
        )
    if version.is_best:
        return
    previous = best_model(project=version.project)
    ModelVersion.objects.filter(project=version.project, is_best=True).update(
        is_best=False
    )
    values = {"is_best": True}
    if reason != ROLL_BACK:  # a roll back keeps the chain it walks back along
        values["promoted_from"] = previous
    ModelVersion.objects.filter(pk=version.pk).update(**values)
    event_log(
        project_id=version.project_id,
        actor=actor,
        verb="model_promoted",
        model=version.pk,
        previous=previous.pk if previous else None,
        reason=reason,
    )
    transaction.on_commit(lambda: scoring_request(project=version.project, actor=actor))
    # Then the new best model checks the held-out ground truth for label errors.
    transaction.on_commit(
        lambda: label_errors_request(project=version.project, actor=actor)
    )


@transaction.atomic
def model_version_roll_back(*, project: Project, actor) -> ModelVersion:
    """Make the version that was best before the current best one the best again,
    through model_version_promote (event `model_promoted`, reason "roll back",
    re-scoring after commit). Rolling back again walks further back.

    Raises ValidationError when there is no best model, it has no predecessor,
    or the predecessor has no weights any more.
    """
    project_lock(project_id=project.pk)
    current = best_model(project=project)
    if current is None:
        raise ValidationError({"model": "there is no best model to roll back"})
    target = current.promoted_from
    if target is None:
        raise ValidationError(
            {
                "model": f"no best model before {current.name} is recorded: "
                "promote the version you want instead"
            }
        )
    model_version_promote(version=target, actor=actor, reason=ROLL_BACK)
    return target


@transaction.atomic
def evaluations_mark_stale(*, project_id: int, item_ids: list[int]) -> int:
    """Mark stale every evaluation of the project that scored one of `item_ids`
    (their labels were reopened for correction). Returns how many were marked.
    A project has a few evaluations, each with its frozen test ids: read in
    Python, engine-neutral (no JSON containment SQL)."""
    wanted = set(item_ids)
    ids = [
        pk
        for pk, test_ids in Evaluation.objects.filter(
            project_id=project_id, stale=False
        ).values_list("pk", "test_item_ids")
        if wanted.intersection(test_ids or ())
    ]
    return Evaluation.objects.filter(pk__in=ids).update(stale=True)
