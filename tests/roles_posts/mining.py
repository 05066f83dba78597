"""FORM_POSTS actions of similar-item mining (tests/test_roles_matrix_posts.py)."""

from django.urls import reverse


class SimilarSend:
    """Send one item found similar to another to the front of the queue."""

    route = "annotate:project-items-similar-send"
    ok = 302

    def setup(self, ctx, n):
        from annotate.models import Item
        from tests.factories import make_items

        query, found = make_items(ctx.project, 2, start_seed=1200 + 2 * n)
        Item.objects.filter(pk=query.pk).update(embedding=[1.0, 0.0])
        Item.objects.filter(pk=found.pk).update(embedding=[0.8, 0.6])
        return query, found

    def url(self, ctx, state):
        return reverse(self.route, args=[ctx.project.pk])

    def data(self, ctx, state):
        query, found = state
        return {"similar_to": [query.pk], "items": [found.pk]}

    def happened(self, ctx, state, user):
        _, found = state
        found.refresh_from_db()
        reason = found.priority_reason
        return (
            found.pin == "pinned"
            and reason.get("similar_to") == [state[0].pk]
            and reason.get("by") == user.username
            and found.project.events.filter(
                verb="item_similar_prioritised", item=found
            ).exists()
        )
