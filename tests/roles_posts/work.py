"""Form POST actions of the Work features for the role matrix: the goal on the
settings page, the bulk tag action of the item browser."""

from annotate.models import ItemTag, Project
from tests.roles_posts.actions import BulkSkip, PipelineEdit


class GoalEdit(PipelineEdit):
    def setup(self, ctx, n):
        return 500 + n

    def data(self, ctx, state):
        return {"action": "goal", "goal": str(state)}

    def happened(self, ctx, state, user):
        return Project.objects.get(pk=ctx.project.pk).goal == state


class BulkTag(BulkSkip):
    def data(self, ctx, state):
        return {"action": "tag", "items": [i.pk for i in state], "tag_name": "hard"}

    def happened(self, ctx, state, user):
        tagged = ItemTag.objects.filter(item__in=state, name="hard")
        return tagged.count() == len(state)
