"""Tags on items: put on or take off a tag, in bulk from the item browser."""

import re

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from annotate.models import TAG_MAX_LENGTH, Event, Item, ItemTag, Project
from annotate.services.curation import parse_item_ids
from annotate.services.projects import project_lock

# Letters (any script), digits, and - _ . : / and inner spaces.
TAG_PATTERN = re.compile(r"^[\w](?:[\w .:/-]*[\w])?$")
MAX_TAGS_PER_ITEM = 50


def tag_name_clean(name) -> str:
    """The tag name stripped; ValidationError({"tag": reason}) when it is not one."""
    name = name.strip() if isinstance(name, str) else ""
    if not name:
        raise ValidationError({"tag": "give a tag name"})
    if len(name) > TAG_MAX_LENGTH:
        raise ValidationError(
            {"tag": f"a tag is at most {TAG_MAX_LENGTH} characters, not {len(name)}"}
        )
    if not TAG_PATTERN.match(name):
        raise ValidationError(
            {
                "tag": "a tag holds letters, digits, spaces and - _ . : / "
                "(starting and ending with a letter or digit)"
            }
        )
    return name


@transaction.atomic
def items_tag(*, project: Project, actor, item_ids, tag: str, remove=False) -> int:
    """Put `tag` on the items (any status; claims do not matter), or with
    `remove` take it off. All or nothing: ValidationError for a bad tag name,
    ids that are not items of this project, an item that would carry more than
    MAX_TAGS_PER_ITEM tags, or (remove) a tag none of the items carries.
    Logs item_tagged / item_untagged per item changed. Returns that count."""
    name = tag_name_clean(tag)
    ids = parse_item_ids(item_ids)
    project_lock(project_id=project.pk)
    found = set(
        Item.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True)
    )
    unknown = [i for i in ids if i not in found]
    if unknown:
        shown = ", ".join(str(i) for i in unknown[:10])
        raise ValidationError({"items": f"not items of this project: {shown}"})
    carrying = set(
        ItemTag.objects.filter(item_id__in=ids, name=name).values_list(
            "item_id", flat=True
        )
    )
    if remove:
        if not carrying:
            raise ValidationError(
                {"tag": f"none of the selected items carries the tag “{name}”"}
            )
        ItemTag.objects.filter(item_id__in=carrying, name=name).delete()
        changed = sorted(carrying)
    else:
        changed = [i for i in ids if i not in carrying]
        full = _items_with_tags_at_least(changed, MAX_TAGS_PER_ITEM)
        if full:
            raise ValidationError(
                {"tag": f"items {full[:10]} carry {MAX_TAGS_PER_ITEM} tags already"}
            )
        ItemTag.objects.bulk_create(
            ItemTag(item_id=i, project=project, name=name) for i in changed
        )
    Event.objects.bulk_create(
        Event(
            project=project,
            actor=actor if actor is not None and actor.is_authenticated else None,
            verb="item_untagged" if remove else "item_tagged",
            item_id=i,
            data={"tag": name, "bulk": len(ids)},
        )
        for i in changed
    )
    return len(changed)


def _items_with_tags_at_least(ids: list[int], limit: int) -> list[int]:
    return list(
        ItemTag.objects.filter(item_id__in=ids)
        .values("item_id")
        .annotate(n=Count("id"))
        .filter(n__gte=limit)
        .values_list("item_id", flat=True)
    )
