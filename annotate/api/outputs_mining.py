"""Output serializers of the mining and label-error endpoints (similar items,
possible label errors), one per entity as in annotate.api.outputs."""

from rest_framework import serializers

from annotate.api.outputs import ItemSerializer
from annotate.models import FlagStatus


class SimilarItemSerializer(serializers.Serializer):
    item = ItemSerializer()
    distance = serializers.FloatField(
        help_text="cosine distance of the embeddings (0 = same direction, 2 = opposite)"
    )


class SimilarResultSerializer(serializers.Serializer):
    query = serializers.ListField(child=serializers.IntegerField())
    k = serializers.IntegerField()
    mode = serializers.CharField()
    results = SimilarItemSerializer(many=True, help_text="nearest first")


class SimilarPrioritisedSerializer(serializers.Serializer):
    prioritised = serializers.IntegerField(help_text="items pinned to the front")


class LabelErrorCandidateSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=[
            "wrong_class",
            "missing_label",
            "shifted_box",
            "spurious_label",
            "similar",
        ],
        help_text="similar: flagged by find similar mistakes",
    )
    score = serializers.FloatField(help_text="0-1, higher: more likely an error")
    reason = serializers.CharField()
    label = serializers.CharField(allow_null=True, help_text="the approved class")
    predicted = serializers.CharField(allow_null=True, help_text="the model's class")
    iou = serializers.FloatField()
    confidence = serializers.FloatField()
    gt_index = serializers.IntegerField(
        allow_null=True, help_text="the approved shape's index (annotation id order)"
    )
    pred_index = serializers.IntegerField(allow_null=True)
    gt_bbox = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    pred_bbox = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    similar_to = serializers.IntegerField(
        allow_null=True,
        required=False,
        help_text="kind similar: the item whose confirmed label error it resembles",
    )
    distance = serializers.FloatField(
        allow_null=True, required=False, help_text="kind similar: cosine distance"
    )


class LabelErrorFlagSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    item = serializers.IntegerField(source="item_id")
    item_name = serializers.CharField(source="item.original_name")
    item_version = serializers.IntegerField(help_text="the label version flagged")
    model_version = serializers.IntegerField(source="model_version_id")
    model_name = serializers.CharField()
    kind = serializers.CharField(help_text="the top candidate's kind")
    score = serializers.FloatField()
    status = serializers.ChoiceField(choices=FlagStatus.choices)
    candidates = LabelErrorCandidateSerializer(many=True)
    created_at = serializers.DateTimeField()


class LabelErrorSimilarSerializer(serializers.Serializer):
    flagged = serializers.IntegerField(help_text="items flagged for re-review")
    skipped = serializers.IntegerField(
        help_text="nearest items left alone: already flagged, or answered"
    )
    items = serializers.ListField(
        child=serializers.IntegerField(), help_text="the items flagged"
    )
