"""Reads of the possible-label-error flags: the re-review queue, best first."""

from django.db.models import Prefetch, QuerySet
from django.http import Http404

from annotate.models import Annotation, FlagStatus, LabelErrorFlag, Project


def label_error_flags_open(*, project: Project) -> QuerySet[LabelErrorFlag]:
    """The project's open flags, highest score first, with their items."""
    return (
        LabelErrorFlag.objects.filter(project=project, status=FlagStatus.OPEN)
        .select_related("item")
        .defer("item__embedding")
        .order_by("-score", "id")
    )


def label_error_queue(*, project: Project, limit: int = 20) -> list[LabelErrorFlag]:
    """The first `limit` open flags with their items' current shapes
    (`item.shapes`, annotation id order): two queries whatever the size."""
    return list(
        label_error_flags_open(project=project).prefetch_related(
            Prefetch(
                "item__annotations",
                queryset=Annotation.objects.order_by("id"),
                to_attr="shapes",
            )
        )[:limit]
    )


def label_error_flag_get(*, project: Project, flag_id) -> LabelErrorFlag:
    """A flag of `project`; Http404 for unknown ids and other projects' flags."""
    try:
        return LabelErrorFlag.objects.select_related("item", "project").get(
            pk=int(flag_id), project=project
        )
    except (LabelErrorFlag.DoesNotExist, ValueError, TypeError, OverflowError):
        raise Http404("no such flag") from None


def label_error_flags_fixed(*, project: Project, limit: int = 10):
    """The `limit` most recently fixed flags (label errors a reviewer
    confirmed by reopening the item), with their items: the seeds of "find
    similar mistakes". One query."""
    return list(
        LabelErrorFlag.objects.filter(project=project, status=FlagStatus.FIXED)
        .select_related("item")
        .defer("item__embedding", "item__score_components")
        .order_by("-resolved_at", "-id")[:limit]
    )
