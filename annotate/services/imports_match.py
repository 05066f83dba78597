"""Which items of a project the file names of an import name."""

import re

from annotate import coco
from annotate.models import Item, Project
from ml.datasets import safe_stem

YOLO_EXPORT_NAME = re.compile(r"^(?P<pk>\d{8,19})(?:_(?P<stem>[\w-]+))?(?:\.\w+)?$")


def match_items(project: Project, names: list[str]) -> dict[str, list[int]]:
    """file_name -> item ids. Tried in turn, the first that finds any item wins:
    the upload's relative path; the path without its leading folders, one at a
    time (another tool's "images/train/cam1/a.png" finds "cam1/a.png"); the base
    name as display name or stored file name; "<stem>~<id>.<ext>" and
    "item_<id>.<ext>" as the exporter writes them."""
    by_path: dict[str, list[int]] = {}
    by_name: dict[str, list[int]] = {}
    by_stem: dict[str, list[int]] = {}
    by_safe_stem: dict[str, list[int]] = {}
    by_id: dict[int, tuple[str, str]] = {}
    for pk, path, original, stored, fmt in Item.objects.filter(
        project=project
    ).values_list("pk", "source_path", "original_name", "file", "image_format"):
        if path:
            by_path.setdefault(path, []).append(pk)
        by_name.setdefault(original, []).append(pk)
        by_stem.setdefault(original.rsplit(".", 1)[0], []).append(pk)
        by_safe_stem.setdefault(safe_stem(original), []).append(pk)
        base = stored.rsplit("/", 1)[-1]
        if base != original:
            by_name.setdefault(base, []).append(pk)
        by_id[pk] = (coco.item_base_name(pk, path, original, fmt), original)
    found: dict[str, list[int]] = {}
    for name in names:
        parts = name.split("/")
        ids: list[int] = []
        for i in range(len(parts)):
            ids = by_path.get("/".join(parts[i:]), [])
            if ids:
                break
        if not ids:
            ids = by_name.get(parts[-1], [])
        if not ids:
            ids = _exporter_name_match(name, by_id, by_safe_stem)
        if not ids and "." not in parts[-1]:  # a YOLO label file without its image
            ids = by_stem.get(parts[-1], [])
        found[name] = ids
    return found


def _exporter_name_match(
    name: str, by_id: dict[int, tuple[str, str]], by_safe_stem: dict[str, list[int]]
) -> list[int]:
    dup = coco.DUPLICATE_SUFFIX.match(name)
    if dup:
        pk = int(dup["pk"])
        base = by_id.get(pk, ("", ""))[0]
        if base and coco.unique_file_name(base, pk, {base}) == name:
            return [pk]
    leaf = name.rsplit("/", 1)[-1]
    yolo = YOLO_EXPORT_NAME.match(leaf)  # "<id:08d>_<safe stem>.<ext>"
    if yolo:
        pk, stem = int(yolo["pk"]), yolo["stem"] or ""
        if pk in by_id and safe_stem(by_id[pk][1]) == stem:
            return [pk]
        if stem:  # another project's export: the same image names
            return by_safe_stem.get(stem, [])
    if leaf.startswith("item_") and "." in leaf:
        stem = leaf[5:].split(".", 1)[0]
        if stem.isdigit() and by_id.get(int(stem), ("", "x"))[1] == "":
            return [int(stem)]
    return []
