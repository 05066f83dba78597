"""Label Studio JSON import (its "JSON" export: a list of tasks with
annotations and predictions), read one task at a time as a source of
annotate.services.imports.coco_import (a file streamed with ijson): same
checks, the same streamed all-or-nothing write, same report.

Regions taken: `rectanglelabels` (x, y, width, height in percent of the image;
a rotated one becomes its rotated polygon) and `polygonlabels` (points in
percent). Other region types (brushes, keypoints, choices, text) are listed as
errors so that nothing is dropped silently. Per task the last annotation not
cancelled is the ground truth; as predictions, the task's last prediction (its
region `score`, else the prediction's). The image is matched by the path of
`data.image` (URL scheme and host dropped, Label Studio's 8-hex upload prefix
"1a2b3c4d-" removed), like a COCO file_name.
"""

import math
import re
from collections.abc import Iterator
from urllib.parse import unquote, urlparse

from django.core.exceptions import ValidationError

from annotate.selectors import item_sizes
from annotate.services.imports import coco_import
from annotate.services.imports_check import ID_CHUNK, ImportErrors, is_number
from annotate.services.imports_match import match_items

UPLOAD_PREFIX = re.compile(r"^[0-9a-f]{8}-(?=.)")
NOT_A_LIST = "a Label Studio export is a list of tasks"
REGION_TYPES = {"rectanglelabels": "rectangle", "polygonlabels": "polygon"}


def image_name(url) -> str | None:
    """The file name a task's image is matched by (None when there is none)."""
    if not isinstance(url, str) or not url.strip():
        return None
    path = unquote(urlparse(url.strip()).path or "")
    if "?d=" in url:  # local files storage: /data/local-files/?d=folder/a.png
        path = unquote(url.split("?d=", 1)[1])
    parts = [p for p in path.split("/") if p not in {"", "."}]
    if parts[:2] == ["data", "upload"]:
        parts = parts[3:] if len(parts) > 3 else parts[2:]
    if not parts:
        return None
    parts[-1] = UPLOAD_PREFIX.sub("", parts[-1])
    return "/".join(parts)[:1024]


def _percent(value) -> bool:
    return is_number(value) and -1 <= value <= 101


def _region(result, where, errors, width, height, categories):
    """One COCO annotation (without ids) of a Label Studio region, or None."""
    if not isinstance(result, dict):
        errors.add(where, "not an object")
        return None
    kind = result.get("type")
    value = result.get("value")
    if kind not in REGION_TYPES:
        errors.add(where, f"region type {str(kind)[:40]!r} is not imported")
        return None
    if not isinstance(value, dict):
        errors.add(where, "value must be an object")
        return None
    names = value.get(kind)
    if not isinstance(names, list) or len(names) != 1 or not isinstance(names[0], str):
        errors.add(where, f"{kind} must name exactly one label")
        return None
    category = categories.setdefault(names[0][:64], len(categories) + 1)
    score = result.get("score")
    record = {"category_id": category}
    if score is not None:
        record["score"] = score
    if kind == "rectanglelabels":
        x, y, w, h = (value.get(k) for k in ("x", "y", "width", "height"))
        rotation = value.get("rotation", 0) or 0
        if not all(_percent(v) for v in (x, y, w, h)) or not is_number(rotation):
            errors.add(where, "x, y, width, height must be numbers in percent")
            return None
        px = [x * width / 100, y * height / 100, w * width / 100, h * height / 100]
        if rotation % 360 == 0:
            return {**record, "bbox": px, "shape": "box"}
        # Label Studio rotates a rectangle about its top-left corner.
        cos, sin = math.cos(math.radians(rotation)), math.sin(math.radians(rotation))
        ring = []
        for dx, dy in ((0, 0), (px[2], 0), (px[2], px[3]), (0, px[3])):
            ring += [px[0] + dx * cos - dy * sin, px[1] + dx * sin + dy * cos]
        return {**record, **_ring(ring)}
    points = value.get("points")
    if (
        not isinstance(points, list)
        or not 3 <= len(points) <= 10_000
        or not all(
            isinstance(p, list) and len(p) == 2 and all(_percent(c) for c in p)
            for p in points
        )
    ):
        errors.add(where, "points must be 3 or more [x, y] pairs in percent")
        return None
    ring = [c for x, y in points for c in (x * width / 100, y * height / 100)]
    return {**record, **_ring(ring)}


def _ring(ring: list[float]) -> dict:
    xs, ys = ring[0::2], ring[1::2]
    bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
    return {"segmentation": [ring], "bbox": bbox}


def _chosen(task: dict, as_: str):
    """(key, index, results) of the annotation or prediction taken, or None."""
    key = "annotations" if as_ == "ground_truth" else "predictions"
    entries = task.get(key) or []
    if not isinstance(entries, list):
        return key, None, "must be a list"
    for index in range(len(entries) - 1, -1, -1):
        entry = entries[index]
        if isinstance(entry, dict) and not entry.get("was_cancelled"):
            results = entry.get("result")
            if not isinstance(results, list):
                return key, index, "result must be a list"
            score = entry.get("score")
            return (
                key,
                index,
                [
                    {**r, "score": score}
                    if isinstance(r, dict)
                    and r.get("score") is None
                    and score is not None
                    else r
                    for r in results
                ],
            )
    return key, None, None


def _task_name(task) -> str | None:
    data = task.get("data") if isinstance(task, dict) else None
    return image_name(data.get("image")) if isinstance(data, dict) else None


class LabelStudioSource:
    """Label Studio tasks as a source of coco_import (the interface of
    annotate.services.coco_source; its problems gather in `errors`, in task
    order, and are the ones raised, as when the tasks were converted into one
    document before the check). `tasks()` gives the tasks afresh on each call
    (annotate.services.coco_source.json_array streams a file); they are read
    in three passes, one task at a time: the image names (matched to items),
    then the labels, images and every problem, then the regions as they are
    taken. Held per task: its image name, then its matched item's size.
    `item_of` ({image name: item id}) names the item of an image outright
    (the images of a zip, annotate.services.imports_ls_zip)."""

    def __init__(self, *, project, tasks, as_: str, item_of=None):
        self.project, self._tasks, self.as_ = project, tasks, as_
        self.item_of = item_of or {}
        self.problems: list[str] = []
        self.errors = ImportErrors()
        self._scanned = False
        self._labels: dict[str, int] = {}
        self._images: list[dict] = []
        # Per task: (width, height) of its matched item where it is imported.
        self._sizes: list[tuple[int, int] | None] = []

    def _matches(self, named) -> tuple[dict, dict]:
        """({image name: item ids}, {item id: (width, height)})."""
        wanted = sorted({n for n in named if n} - set(self.item_of))
        matches = match_items(self.project, wanted)
        matches.update((name, [pk]) for name, pk in self.item_of.items())
        ids = list({i for found in matches.values() for i in found})
        sizes: dict[int, tuple[int, int]] = {}
        for start in range(0, len(ids), ID_CHUNK):
            chunk = ids[start : start + ID_CHUNK]
            sizes.update(item_sizes(project=self.project, item_ids=chunk))
        return matches, sizes

    def _scan(self) -> None:
        if self._scanned:
            return
        self._scanned = True
        errors, named = self.errors, []
        for i, task in enumerate(self._tasks()):
            name = _task_name(task)
            if name is None:
                errors.add(f"tasks[{i}]", "data.image names no image")
            named.append(name)
        matches, sizes = self._matches(named)
        for i, (task, name) in enumerate(zip(self._tasks(), named, strict=True)):
            size = None
            ids = matches.get(name, []) if name else []
            if name and len(ids) != 1:
                errors.add(f"tasks[{i}]", f"{len(ids)} items match {name[:80]!r}")
            if len(ids) == 1:
                size = self._check(i, task, sizes[ids[0]])
            if size is not None:
                self._images.append({"id": i + 1, "file_name": name})
            self._sizes.append(size)

    def _check(self, i: int, task: dict, size: tuple[int, int]):
        """The task's regions checked (their labels numbered in order of first
        use); the size where the task is imported, else None."""
        key, index, results = _chosen(task, self.as_)
        if isinstance(results, str):
            self.errors.add(f"tasks[{i}].{key}", results)
            return None
        if results is None:
            return None  # nothing labelled (or all cancelled): left out
        for j, result in enumerate(results):
            where = f"tasks[{i}].{key}[{index}].result[{j}]"
            _region(result, where, self.errors, *size, self._labels)
        return size

    def categories(self) -> list:
        self._scan()
        return [{"id": cid, "name": n} for n, cid in self._labels.items()]

    def images(self) -> list:
        self._scan()
        return self._images

    def annotations(self) -> Iterator[dict]:
        self._scan()
        if self.errors:
            return  # the import fails with them; no region is needed
        next_id, ignored = 1, ImportErrors()
        for i, task in enumerate(self._tasks()):
            size = self._sizes[i]
            if size is None:
                continue
            key, index, results = _chosen(task, self.as_)
            for j, result in enumerate(results):
                where = f"tasks[{i}].{key}[{index}].result[{j}]"
                record = _region(result, where, ignored, *size, self._labels)
                record.update(id=next_id, image_id=i + 1)
                next_id += 1
                yield record


def label_studio_import(*, project, tasks, as_: str, item_of=None, **options) -> dict:
    """Import Label Studio tasks through coco_import; all or nothing. `tasks`
    is the parsed export (a list) or a function giving the tasks afresh on
    each call (annotate.services.coco_source.json_array: a file, streamed)."""
    if not callable(tasks):
        if not isinstance(tasks, list):
            raise ValidationError({"file": [NOT_A_LIST]})
        document = tasks
        tasks = lambda: iter(document)  # noqa: E731
    source = LabelStudioSource(project=project, tasks=tasks, as_=as_, item_of=item_of)
    return coco_import(project=project, source=source, as_=as_, **options)
