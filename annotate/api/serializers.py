"""Input shapes and validation of the annotate API (outputs: annotate.api.outputs)."""

import json
import unicodedata

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from alweb.api import INT64_MAX
from alweb.roles import Role
from annotate import selectors
from annotate.models import KIND_CHOICES, TaskKind
from annotate.services.exports import EXPORT_FORMATS
from annotate.services.imports import IMPORT_AS, IMPORT_CATEGORIES, IMPORT_SPLITS

IMPORT_FORMATS = ("coco", "yolo", "voc", "label_studio")

MAX_EXCLUDE = 200


def clean_text(value: str, *, field: str = "value") -> str:
    """Refuse NUL, control, format (zero-width, bidi) and other invisible chars."""
    for ch in value:
        if ch in "\n\t" and field == "description":
            continue
        if unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Co", "Cn"}:
            raise serializers.ValidationError(
                f"must not contain control or invisible characters (U+{ord(ch):04X})"
            )
    return value


class LabelField(serializers.CharField):
    def __init__(self, **kwargs):
        super().__init__(max_length=64, trim_whitespace=True, **kwargs)

    def to_internal_value(self, data):
        return clean_text(super().to_internal_value(data))


class ProjectWriteSerializer(serializers.Serializer):
    """POST creates (name, labels, kinds required); PATCH changes name,
    description, labels. Other keys (id, created_by, kinds on PATCH...) are
    ignored."""

    name = serializers.CharField(max_length=200)
    description = serializers.CharField(
        max_length=5000, required=False, allow_blank=True, trim_whitespace=False
    )
    labels = serializers.ListField(child=LabelField(), min_length=1, max_length=200)
    kinds = serializers.ListField(
        child=serializers.ChoiceField(choices=KIND_CHOICES),
        min_length=1,
        max_length=2,
    )

    def validate_name(self, value):
        value = clean_text(value, field="name").strip()
        if not value:
            raise serializers.ValidationError("must not be blank")
        return value

    def validate_description(self, value):
        return clean_text(value, field="description")

    def validate_labels(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("labels must be unique")
        return value

    def validate_kinds(self, value):
        if len(set(value)) != len(value):
            raise serializers.ValidationError("kinds must be unique")
        return value


class MemberCreateSerializer(serializers.Serializer):
    """The member to add by username (validated_data["username"]: the user)."""

    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[r.value for r in Role])

    def validate_username(self, value):
        user = selectors.user_find_active(username=clean_text(value))
        if user is None:
            raise serializers.ValidationError("no such user")
        return user


class MemberInviteSerializer(serializers.Serializer):
    """A new account to invite: its username (not taken) and its role."""

    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[r.value for r in Role])

    def validate_username(self, value):
        return clean_text(value)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=[r.value for r in Role])


class ShapeInputSerializer(serializers.Serializer):
    """A shape as clients send it (API.md "Shapes"); `id` names an annotation it
    continues (an unchanged model pre-annotation keeps its source)."""

    id = serializers.IntegerField(required=False, allow_null=True)
    kind = serializers.ChoiceField(choices=KIND_CHOICES)
    label = serializers.CharField()
    bbox = serializers.ListField(child=serializers.FloatField(), required=False)
    points = serializers.ListField(
        child=serializers.ListField(child=serializers.FloatField()), required=False
    )


@extend_schema_field(ShapeInputSerializer(many=True))
class ShapesField(serializers.ListField):
    """A list of shape objects; their geometry is validated by the service
    (annotate.services.annotations.shapes_validate names the bad shape). An `id`
    beyond what the database stores is refused here."""

    child = serializers.JSONField()

    def to_internal_value(self, data):
        shapes = super().to_internal_value(data)
        for index, shape in enumerate(shapes):
            ident = shape.get("id") if isinstance(shape, dict) else None
            if isinstance(ident, int) and not -INT64_MAX - 1 <= ident <= INT64_MAX:
                raise serializers.ValidationError(
                    f"shape {index}: id {ident} is beyond any stored id"
                )
        return shapes


class TaskNextInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TaskKind.choices)
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT64_MAX),
        required=False,
        max_length=MAX_EXCLUDE,
        help_text="item ids not to offer (items the caller just skipped)",
    )


class TaskPeekInputSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=TaskKind.choices, default=TaskKind.LABEL)
    exclude = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT64_MAX),
        required=False,
        max_length=MAX_EXCLUDE,
        help_text="item ids not to offer (repeat the parameter)",
    )


class ClientIdField(serializers.RegexField):
    """A client-made id (a UUID fits): a string of 1 to 64 letters, digits and
    . _ : - (a number or any other JSON value is refused, not converted)."""

    def __init__(self, **kwargs):
        super().__init__(
            r"^[A-Za-z0-9._:-]+$",
            max_length=64,
            error_messages={
                "invalid": "use only letters, digits, '.', '_', ':' and '-'"
            },
            **kwargs,
        )

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("must be a string")
        return super().to_internal_value(data)


class DraftInputSerializer(serializers.Serializer):
    annotations = ShapesField()
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=INT64_MAX,
        help_text="the draft version the client last saw; 409 if older",
    )


class SubmitInputSerializer(serializers.Serializer):
    annotations = ShapesField()
    client_id = ClientIdField(
        required=False,
        help_text="an id the client makes once per submit and sends again on "
        "retries: a second submit with the same id gets the first one's answer",
    )
    version = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        max_value=INT64_MAX,
        help_text="the draft version the client last saw; 409 if the draft was "
        "saved elsewhere since",
    )


class ApproveInputSerializer(serializers.Serializer):
    annotations = ShapesField(required=False, allow_null=True)


class RejectInputSerializer(serializers.Serializer):
    comment = serializers.CharField(max_length=5000, trim_whitespace=True)


@extend_schema_field({"type": "object", "description": "a COCO document"})
class CocoDocumentField(serializers.JSONField):
    """The COCO document as sent; annotate.services.imports checks its content."""


class ImportInputSerializer(serializers.Serializer):
    """A COCO import: `as` and the document, as JSON `coco` or (multipart, for
    curl) a `file` holding it (then "archive": the import streams it).
    validated_data: {"as", "document", "archive", "split",
    "categories", "category_map"}."""

    coco = CocoDocumentField(required=False)
    format = serializers.ChoiceField(
        choices=IMPORT_FORMATS,
        required=False,
        default="coco",
        help_text="coco (JSON `coco` or `file`), yolo or voc (a zip as `file`), "
        "label_studio (its JSON export as `label_studio` or `file`, or a zip of "
        "the export and its images as `file`: missing images become items)",
    )
    label_studio = serializers.JSONField(
        required=False, help_text="Label Studio's JSON export: a list of tasks"
    )
    split = serializers.ChoiceField(
        choices=IMPORT_SPLITS,
        required=False,
        default="keep",
        help_text="keep: each image takes the split the file names (train, val, "
        "test); redraw: the file's splits are ignored and new items get a drawn one",
    )
    categories = serializers.ChoiceField(
        choices=IMPORT_CATEGORIES,
        required=False,
        default="refuse",
        help_text="refuse: unknown category names answer 400 naming them; add: "
        "they become labels of the project (needs the pipeline-editing permission)",
    )
    category_map = serializers.JSONField(
        required=False,
        help_text='{"file category name": "project label"}, applied first',
    )

    def validate_category_map(self, value):
        if isinstance(value, str):  # multipart sends it as JSON text
            try:
                value = json.loads(value)
            except (ValueError, RecursionError):
                raise serializers.ValidationError("not valid JSON") from None
        if not isinstance(value, dict) or len(value) > 1000:
            raise serializers.ValidationError("must be an object of <= 1000 names")
        for key, label in value.items():
            if not isinstance(label, str) or not 0 < len(label) <= 64 or len(key) > 64:
                raise serializers.ValidationError(
                    f"{key[:64]!r}: names and labels are strings of 1 to 64 characters"
                )
            clean_text(label)
        return value

    def get_fields(self):
        # "as" is a Python keyword, so no class attribute can declare it.
        fields = super().get_fields()
        reason = f"must be one of {', '.join(IMPORT_AS)}"
        fields["as"] = serializers.ChoiceField(
            choices=IMPORT_AS,
            error_messages={
                "required": reason,
                "null": reason,
                "invalid_choice": reason,
            },
        )
        return fields

    def validate(self, attrs):
        upload = self.initial_data.get("file")
        fmt = attrs.get("format", "coco")
        document = archive = None
        if fmt == "label_studio":
            if hasattr(upload, "read"):
                # Its JSON export, streamed one task at a time, or a zip of
                # it with the images (annotate.services.imports_ls_zip): the
                # import answers {"file": ["not valid JSON"]} itself.
                archive = upload
            elif "label_studio" in attrs:
                document = attrs["label_studio"]
            else:
                raise serializers.ValidationError(
                    {"file": "send the Label Studio export as `file` or `label_studio`"}
                )
        elif fmt != "coco":
            if not hasattr(upload, "read"):
                raise serializers.ValidationError(
                    {"file": f"send the {fmt} dataset as a zip in `file` (multipart)"}
                )
            archive = upload
        elif hasattr(upload, "read"):
            # Streamed by the import (annotate.services.coco_source), which
            # answers {"file": ["not valid JSON"]} itself.
            archive = upload
        elif "coco" in attrs:
            document = attrs["coco"]
        else:
            raise serializers.ValidationError(
                {"file": "send a COCO file as `file` or `coco`"}
            )
        return {
            "as": attrs["as"],
            "format": fmt,
            "document": document,
            "archive": archive,
            "split": attrs.get("split", "keep"),
            "categories": attrs.get("categories", "refuse"),
            "category_map": attrs.get("category_map") or {},
        }


class ExportQuerySerializer(serializers.Serializer):
    """`?format=` of an export: coco (the default) or yolo."""

    format = serializers.ChoiceField(
        choices=EXPORT_FORMATS,
        required=False,
        allow_blank=True,
        error_messages={
            "invalid_choice": f"must be one of {', '.join(EXPORT_FORMATS)}"
        },
    )

    predictions = serializers.BooleanField(
        required=False,
        default=False,
        help_text="COCO: add a `predictions` list (model annotations with score "
        "and model_version) in COCO results format",
    )
    include_review = serializers.BooleanField(
        required=False,
        default=False,
        help_text="COCO: also export the items waiting for review "
        '(`"status": "review"`)',
    )
    images = serializers.BooleanField(
        required=False,
        default=False,
        help_text="COCO: a zip of `annotations.json` and the images under "
        "`images/` at their `file_name`, instead of the JSON alone",
    )

    def validate_format(self, value: str) -> str:
        return value or "coco"


class ItemsTagSerializer(serializers.Serializer):
    """Put a tag on items or take it off (the name is checked by the service)."""

    items = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT64_MAX),
        min_length=1,
        max_length=500,
    )
    tag = serializers.CharField(max_length=255, trim_whitespace=False)
    action = serializers.ChoiceField(choices=["tag", "untag"], default="tag")


def _item_ids(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=INT64_MAX),
        min_length=1,
        max_length=500,
        help_text=help_text,
    )


class SimilarQueryInputSerializer(serializers.Serializer):
    k = serializers.IntegerField(
        min_value=1,
        max_value=500,
        default=50,
        help_text="how many nearest items (1-500, default 50)",
    )
    mode = serializers.ChoiceField(
        choices=["centroid", "union"],
        default="centroid",
        help_text="a bucket of several items: by its centroid, or as a union "
        "(each item's distance to the closest member)",
    )


class SimilarBucketInputSerializer(SimilarQueryInputSerializer):
    items = _item_ids("the bucket: item ids (repeat the parameter)")


class SimilarPrioritiseInputSerializer(serializers.Serializer):
    similar_to = _item_ids("the item or bucket the items were found similar to")
    items = _item_ids("unlabelled items to send to the front of the queue")
    mode = serializers.ChoiceField(choices=["centroid", "union"], default="centroid")


class LabelErrorFixInputSerializer(serializers.Serializer):
    comment = serializers.CharField(
        max_length=5000,
        required=False,
        allow_blank=True,
        default="",
        help_text="what to correct (default: the flag's reason)",
    )


class LabelErrorSimilarInputSerializer(serializers.Serializer):
    k = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=500,
        default=20,
        help_text="ground-truth items searched (default 20)",
    )
