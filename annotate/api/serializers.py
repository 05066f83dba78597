"""Input shapes and validation of the annotate API, and the output dicts."""

import unicodedata

from rest_framework import serializers

from alweb.roles import Role
from annotate.models import KIND_CHOICES, Item, Membership, Project
from annotate.services.annotations import annotation_as_dict


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
        child=serializers.ChoiceField(choices=[k for k, _ in KIND_CHOICES]),
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
    username = serializers.CharField(max_length=150)
    role = serializers.ChoiceField(choices=[r.value for r in Role])

    def validate_username(self, value):
        return clean_text(value)


class MemberUpdateSerializer(serializers.Serializer):
    role = serializers.ChoiceField(choices=[r.value for r in Role])


def project_as_dict(project: Project, role: str | None) -> dict:
    return {
        "id": project.pk,
        "name": project.name,
        "description": project.description,
        "labels": project.labels,
        "kinds": project.kinds,
        "role": role,
        "created_at": project.created_at.isoformat(),
    }


def member_as_dict(membership: Membership) -> dict:
    return {
        "user_id": membership.user_id,
        "username": membership.user.username,
        "role": membership.role,
    }


def item_as_dict(item: Item, *, annotations: bool = False) -> dict:
    data = {
        "id": item.pk,
        "project": item.project_id,
        "name": item.original_name,
        "width": item.width,
        "height": item.height,
        "status": item.status,
        "split": item.split,
        "priority": item.priority,
        "uncertainty": item.uncertainty,
        "version": item.version,
        "created_at": item.created_at.isoformat(),
    }
    if annotations:
        data["annotations"] = [
            annotation_as_dict(a) for a in item.annotations.select_related("author")
        ]
    return data
