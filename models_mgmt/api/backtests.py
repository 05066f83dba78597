"""API: start a backtest on the project's ground truth (results: the runs API)."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from alweb.api import project_for
from alweb.roles import Perm
from alweb.schema import CONFLICT
from ml.selection import STRATEGIES, STRATEGY_NAMES
from models_mgmt.services.backtests import backtest_start
from runs.api import RunSerializer


class BacktestInputSerializer(serializers.Serializer):
    strategies = serializers.ListField(
        child=serializers.ChoiceField(choices=STRATEGY_NAMES),
        required=False,
        max_length=len(STRATEGIES),
        help_text="strategies to compare; random always runs as the control",
    )
    initial = serializers.IntegerField(required=False, min_value=2, max_value=10_000)
    batch = serializers.IntegerField(required=False, min_value=1, max_value=10_000)
    rounds = serializers.IntegerField(required=False, min_value=1, max_value=20)
    seeds = serializers.IntegerField(required=False, min_value=1, max_value=10)


class BacktestStartApi(APIView):
    @extend_schema(
        operation_id="backtests_start",
        summary="Backtest strategies on the project's own ground truth",
        description=(
            "A background run (kind `backtest`, the training queue): the approved "
            "train and val items are the pool, the test split judges each round. "
            "Sizes default to the project's ground truth. Follow it, and read its "
            "curves and label efficiency in `result`, at `GET /api/v1/runs/{id}/`."
        ),
        request=BacktestInputSerializer,
        responses={202: RunSerializer, 409: CONFLICT},
    )
    def post(self, request, project_id):
        project = project_for(request, project_id, Perm.BACKTEST)
        data = request.data if isinstance(request.data, dict) else None
        serializer = BacktestInputSerializer(data=data)
        serializer.is_valid(raise_exception=True)
        job = backtest_start(
            project=project, actor=request.user, data=serializer.validated_data
        )
        return Response(RunSerializer(job).data, status=status.HTTP_202_ACCEPTED)
