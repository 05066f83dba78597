"""Form POST action of "find similar mistakes" on the re-review page: a fixed
flag whose item has an embedding, and a labelled neighbour to flag."""

from django.urls import reverse

from annotate.models import FlagStatus, ItemStatus, LabelErrorFlag


class SimilarMistakes:
    route = "annotate:label-error-similar"
    ok = 302

    def setup(self, ctx, n):
        from tests.annotate.test_mining import bulk_items

        seed, near = bulk_items(
            ctx.project,
            [[1.0, 0.0, float(n)], [1.0, 0.01, float(n)]],
            status=ItemStatus.DONE,
            tag=f"sm{n}-",
        )
        return LabelErrorFlag.objects.create(
            project=ctx.project,
            item=seed,
            model_version_id=ctx.versions[0].pk,
            model_name=ctx.versions[0].name,
            kind="wrong_class",
            score=0.8,
            candidates=[{"kind": "wrong_class", "score": 0.8, "reason": "x"}],
            status=FlagStatus.FIXED,
        )

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk, state.pk])

    def data(self, ctx, state):
        return {"k": "1"}

    def happened(self, ctx, state, user):
        return LabelErrorFlag.objects.filter(
            kind="similar", candidates__0__seed_flag=state.pk
        ).exists()
