"""Form POST action of the error-analysis thresholds on the settings page."""

from models_mgmt.models import TrainingSettings
from tests.roles_posts.actions import PipelineEdit


class ThresholdsEdit(PipelineEdit):
    def setup(self, ctx, n):
        return round(0.3 + n / 100, 2)

    def data(self, ctx, state):
        return {"action": "thresholds", "label_error_min_score": str(state)}

    def happened(self, ctx, state, user):
        row = TrainingSettings.objects.get(project=ctx.project)
        return row.label_error_min_score == state
