"""YOLO (ultralytics detect and segment layouts) and Pascal VOC zips as sources
of annotate.services.imports.coco_import (the interface of
annotate.services.coco_source: categories, images, then the annotations
yielded lazily, plus the readers' own `errors`), so the same checks, the same
streamed all-or-nothing write and the same report hold for every format, and
memory is bounded by the import's batches, not by the archive.

Hand-written: each reader is a few dozen lines over stdlib zipfile, PyYAML (an
ultralytics dependency) and ElementTree, and must name the member and line of
every problem, which no format library's loader does.

Only .txt, .yaml/.yml and .xml members are read (bounded, never extracted);
images in the archive only lend their file names. XML with a DOCTYPE or an
entity declaration is refused before parsing.
"""

import math
import posixpath
import re
import zipfile
import zlib
from collections.abc import Iterator
from xml.etree import ElementTree

from django.core.exceptions import ValidationError

from annotate.models import Split
from annotate.services.imports_check import ImportErrors
from annotate.services.imports_match import match_items

MAX_MEMBERS = 200_000
MAX_MEMBER_BYTES = 16 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")
_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")


def _refuse(reason: str):
    raise ValidationError({"file": [reason]})


def open_zip(handle) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    try:
        archive = zipfile.ZipFile(handle)
        infos = [i for i in archive.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        _refuse("not a readable zip archive")
    if len(infos) > MAX_MEMBERS:
        _refuse(f"too many members ({len(infos)} > {MAX_MEMBERS})")
    wanted = [
        i
        for i in infos
        if i.filename.lower().endswith((".txt", ".yaml", ".yml", ".xml"))
    ]
    if sum(i.file_size for i in wanted) > MAX_TOTAL_BYTES:
        _refuse("the archive's label files are too large when unpacked")
    members = {}
    for info in infos:
        name = posixpath.normpath(info.filename.replace("\\", "/")).lstrip("/")
        if name.startswith("../") or name == "..":
            continue
        members[name] = info
    return archive, members


def _read(archive, info, where: str, errors: ImportErrors) -> str | None:
    if info.file_size > MAX_MEMBER_BYTES:
        errors.add(where, f"too large ({info.file_size} bytes)")
        return None
    try:
        with archive.open(info) as fh:
            data = fh.read(MAX_MEMBER_BYTES + 1)
        if len(data) > MAX_MEMBER_BYTES:
            raise ValueError("larger than declared")
        return data.decode("utf-8-sig")
    except (
        zipfile.BadZipFile,
        zlib.error,
        OSError,
        ValueError,
        RuntimeError,
        EOFError,
    ) as exc:
        errors.add(where, f"unreadable: {exc}"[:200])
        return None


def _number(text: str) -> float | None:
    if not _NUMBER.match(text):
        return None
    value = float(text)
    return value if math.isfinite(value) else None


def _split_of(part: str) -> str | None:
    return part if part in Split.values else None


def _yolo_names(archive, members, errors) -> list[str]:
    import yaml

    yamls = sorted(n for n in members if n.endswith((".yaml", ".yml")))
    if not yamls:
        _refuse("data.yaml (with names) is missing from the archive")
    where = min(yamls, key=lambda n: (n.count("/"), n))
    text = _read(archive, members[where], where, errors)
    try:
        data = yaml.safe_load(text or "")
    except yaml.YAMLError as exc:
        _refuse(f"{where}: not valid YAML ({str(exc)[:120]})")
    names = data.get("names") if isinstance(data, dict) else None
    if isinstance(names, dict):
        keys = sorted(
            k for k in names if isinstance(k, int) and not isinstance(k, bool)
        )
        if keys != list(range(len(names))):
            _refuse(f"{where}: names keys must be 0..n-1")
        names = [names[k] for k in keys]
    if (
        not isinstance(names, list)
        or not names
        or not all(isinstance(n, str | int) and not isinstance(n, bool) for n in names)
    ):
        _refuse(f"{where}: names must be a non-empty list or {{index: name}}")
    return [str(n) for n in names]


def _yolo_files(members) -> list[tuple[str, str | None, str]]:
    """(label member, split, image file name) for each label file."""
    images = {}
    for name in members:
        if name.lower().endswith(IMAGE_SUFFIXES) and "images/" in f"/{name}":
            head, _, rest = f"/{name}".rpartition("/images/")
            images[(head, posixpath.splitext(rest)[0])] = rest
    found = []
    for name in sorted(members):
        if not name.endswith(".txt") or "labels/" not in f"/{name}":
            continue
        head, _, rest = f"/{name}".rpartition("/labels/")
        stem = rest[: -len(".txt")]
        image = images.get((head, stem))
        first = rest.split("/", 1)[0]
        split = _split_of(first) if "/" in rest else None
        file_name = image if image else stem
        if split and file_name.startswith(f"{split}/"):
            file_name = file_name[len(split) + 1 :]
        found.append((name, split, file_name))
    return found


class YoloSource:
    """A YOLO dataset zip (data.yaml names, labels/<split>/*.txt) as a COCO
    source: detect lines `c cx cy w h [score]` become boxes, segment lines
    `c x1 y1 x2 y2 ...` polygons, scaled by the matched item's size. The label
    files are read one at a time as the annotations are taken; the problems of
    the files (member and line) gather in `errors`, in file order."""

    def __init__(self, *, project, archive, members):
        self.project, self.archive, self.members = project, archive, members
        self.problems: list[str] = []
        self.errors = ImportErrors()
        self.names = _yolo_names(archive, members, self.errors)
        self.files = _yolo_files(members)
        if not self.files:
            _refuse("no label files (labels/<split>/*.txt) in the archive")
        # Per label file: (image id, width, height), or the number of items
        # its name matches where that is not one (reported in file order).
        self._matched: list[tuple[int, int, int] | int] = []

    def categories(self) -> list:
        return [{"id": i + 1, "name": name} for i, name in enumerate(self.names)]

    def images(self) -> list:
        matches = match_items(self.project, [f for _, _, f in self.files])
        sizes = _sizes(self.project, matches)
        images, self._matched = [], []
        for n, (_, split, file_name) in enumerate(self.files, 1):
            ids = matches.get(file_name, [])
            if len(ids) != 1:
                self._matched.append(len(ids))
                continue
            self._matched.append((n, *sizes[ids[0]]))
            images.append({"id": n, "file_name": file_name, "split": split})
        return images

    def annotations(self) -> Iterator[dict]:
        errors, classes, next_id = self.errors, len(self.names), 1
        for (member, _, file_name), matched in zip(
            self.files, self._matched, strict=True
        ):
            if isinstance(matched, int):
                errors.add(member, f"{matched} items match {file_name[:80]!r}")
                continue
            n, width, height = matched
            text = _read(self.archive, self.members[member], member, errors)
            for line_no, line in enumerate((text or "").splitlines(), 1):
                record = _yolo_line(line, classes, width, height)
                if isinstance(record, str):
                    errors.add(f"{member} line {line_no}", record)
                elif record is not None:
                    record.update(id=next_id, image_id=n)
                    next_id += 1
                    yield record


def _sizes(project, matches) -> dict[int, tuple[int, int]]:
    from annotate.selectors import item_sizes

    ids = {i for found in matches.values() for i in found}
    return item_sizes(project=project, item_ids=ids)


def _yolo_line(line: str, classes: int, width: int, height: int):
    parts = line.split()
    if not parts:
        return None
    if not parts[0].isdigit() or int(parts[0]) >= classes:
        return f"class {parts[0][:20]!r} is not 0..{classes - 1}"
    values = [_number(p) for p in parts[1:]]
    if any(v is None for v in values):
        return "coordinates must be finite numbers"
    category = int(parts[0]) + 1
    if len(values) in (4, 5):
        cx, cy, w, h = values[:4]
        bbox = [(cx - w / 2) * width, (cy - h / 2) * height, w * width, h * height]
        record = {"category_id": category, "bbox": bbox, "shape": "box"}
        if len(values) == 5:
            record["score"] = values[4]
        return record
    if len(values) >= 6 and len(values) % 2 == 0:
        ring = [v * (width if i % 2 == 0 else height) for i, v in enumerate(values)]
        xs, ys = ring[0::2], ring[1::2]
        bbox = [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]
        return {"category_id": category, "segmentation": [ring], "bbox": bbox}
    return "a line is `class cx cy w h` or `class x1 y1 x2 y2 x3 y3 ...`"


class VocSource:
    """A Pascal VOC zip (Annotations/*.xml, splits from
    ImageSets/Main/{train,val,test}.txt) as a COCO source. VOC's 1-based
    inclusive pixel boxes become alweb's [x, y, w, h] (x = xmin - 1,
    w = xmax - xmin + 1). The categories (labels in order of first use) come
    before the images, so the XML members are read twice, one at a time: once
    for the labels, each image's name, size and split and every problem
    (gathered in `errors`), once more for the boxes as they are taken."""

    def __init__(self, *, archive, members):
        self.archive, self.members = archive, members
        self.problems: list[str] = []
        self.errors = ImportErrors()
        self.xmls = sorted(n for n in members if n.lower().endswith(".xml"))
        if not self.xmls:
            _refuse("no VOC annotation files (*.xml) in the archive")
        self._parsed = False
        self.names: list[str] = []
        self._images: list[dict] = []
        self._image_members: list[str] = []

    def _parse(self) -> None:
        if self._parsed:
            return
        self._parsed = True
        archive, members, errors = self.archive, self.members, self.errors
        split_of: dict[str, str] = {}
        for split in Split.values:
            for name, info in members.items():
                if name.endswith(f"ImageSets/Main/{split}.txt"):
                    for stem in (_read(archive, info, name, errors) or "").split():
                        split_of[stem] = split
        known: set[str] = set()
        for member in self.xmls:
            text = _read(archive, members[member], member, errors)
            parsed = None if text is None else _voc_parse(text, member, errors)
            if parsed is None:
                continue
            file_name, size, objects = parsed
            stem = posixpath.splitext(posixpath.basename(member))[0]
            image = {
                "id": len(self._images) + 1,
                "file_name": file_name,
                "split": split_of.get(stem),
            }
            if size:
                image["width"], image["height"] = size
            self._images.append(image)
            self._image_members.append(member)
            for label, _ in objects:
                if label not in known:
                    known.add(label)
                    self.names.append(label)

    def categories(self) -> list:
        self._parse()
        return [{"id": i + 1, "name": name} for i, name in enumerate(self.names)]

    def images(self) -> list:
        self._parse()
        return self._images

    def annotations(self) -> Iterator[dict]:
        self._parse()
        if self.errors:
            return  # the import fails with them; no box is needed
        category = {name: i + 1 for i, name in enumerate(self.names)}
        next_id = 1
        for n, member in enumerate(self._image_members, 1):
            text = _read(self.archive, self.members[member], member, ImportErrors())
            parsed = _voc_parse(text or "", member, ImportErrors())
            for label, (xmin, ymin, xmax, ymax) in parsed[2] if parsed else ():
                yield {
                    "id": next_id,
                    "image_id": n,
                    "category_id": category[label],
                    "bbox": [xmin - 1, ymin - 1, xmax - xmin + 1, ymax - ymin + 1],
                    "shape": "box",
                }
                next_id += 1


def _voc_parse(text: str, member: str, errors: ImportErrors):
    if "<!DOCTYPE" in text or "<!ENTITY" in text:
        errors.add(member, "DOCTYPE and entity declarations are refused")
        return None
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        errors.add(member, f"not well-formed XML ({exc})"[:200])
        return None
    file_name = (root.findtext("filename") or "").strip()
    if root.tag != "annotation" or not file_name:
        errors.add(member, "not a VOC <annotation> with a <filename>")
        return None
    size = None
    w, h = root.findtext("size/width"), root.findtext("size/height")
    if w is not None or h is not None:
        size = (_number((w or "").strip()), _number((h or "").strip()))
        if (
            None in size
            or size[0] <= 0
            or size[1] <= 0
            or not all(v == int(v) for v in size)
        ):
            errors.add(member, "size width and height must be positive integers")
            return None
        size = (int(size[0]), int(size[1]))
    objects = []
    for i, obj in enumerate(root.findall("object")):
        where = f"{member} object {i + 1}"
        label = (obj.findtext("name") or "").strip()
        coords = [
            _number((obj.findtext(f"bndbox/{k}") or "").strip())
            for k in ("xmin", "ymin", "xmax", "ymax")
        ]
        if not label:
            errors.add(where, "name is missing")
        elif None in coords:
            errors.add(where, "bndbox needs numeric xmin, ymin, xmax, ymax")
        elif coords[2] < coords[0] or coords[3] < coords[1]:
            errors.add(where, "bndbox has xmax < xmin or ymax < ymin")
        else:
            objects.append((label[:64], tuple(coords)))
    return file_name, size, objects
