"""FORM_POSTS actions of the re-review queue (tests/test_roles_matrix_posts.py)."""

from django.urls import reverse


def _flag(ctx, n):
    from annotate.models import LabelErrorFlag
    from annotate.services.labeling import items_make_ground_truth
    from tests.factories import make_items

    (item,) = make_items(ctx.project, 1, start_seed=1400 + n)
    items_make_ground_truth(project=ctx.project, item_ids=[item.pk])
    return LabelErrorFlag.objects.create(
        project=ctx.project,
        item=item,
        model_version_id=ctx.versions[0].pk,
        model_name=ctx.versions[0].name,
        kind="missing_label",
        score=0.8,
        candidates=[{"kind": "missing_label", "score": 0.8, "reason": "x"}],
    )


class LabelErrorAnswer:
    """Confirm a flagged label, or reopen the flagged item for a fix."""

    ok = 302

    def __init__(self, action):
        self.action = action
        self.route = f"annotate:label-error-{action}"

    def setup(self, ctx, n):
        return _flag(ctx, n)

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk, state.pk])

    def data(self, ctx, state):
        return {"comment": "wrong box"} if self.action == "fix" else {}

    def happened(self, ctx, state, user):
        state.refresh_from_db()
        state.item.refresh_from_db()
        if self.action == "confirm":
            return state.status == "confirmed" and state.resolved_by == user
        return (
            state.status == "fixed"
            and state.item.status == "unlabeled"
            and state.item.review_comment == "wrong box"
        )
