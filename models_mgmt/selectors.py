"""Reads of models_mgmt: versions, evaluations and comparisons of a project."""

from django.db.models import QuerySet
from django.http import Http404

from alweb.roles import Perm
from annotate.selectors import project_get_for_user
from models_mgmt.models import Comparison, Evaluation, ModelVersion


def model_version_list(*, project) -> QuerySet[ModelVersion]:
    return ModelVersion.objects.filter(project=project).select_related("parent")


def model_version_get_for_user(*, user, version_id, perm: Perm = Perm.VIEW_DASHBOARD):
    """The version if the user may `perm` on its project (404 for non-members)."""
    try:
        version = ModelVersion.objects.select_related("project", "parent").get(
            pk=int(version_id)
        )
    except (ModelVersion.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such model") from None
    project_get_for_user(user=user, project_id=version.project_id, perm=perm)
    return version


def evaluation_list(*, project) -> QuerySet[Evaluation]:
    return Evaluation.objects.filter(project=project).select_related("model_version")


def comparison_list(*, project) -> QuerySet[Comparison]:
    return Comparison.objects.filter(project=project).select_related(
        "candidate", "incumbent"
    )
