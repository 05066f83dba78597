"""A COCO document's three lists, from a parsed document or streamed from a file.

A file is read in passes with ijson (yajl2_c) rather than parsed whole: its
categories and images are held (they are per image), its annotations are
yielded one at a time, so an import of 500,000 shapes never holds them all.

Streaming must read a file exactly as json.loads does. Where yajl and the json
module disagree — NaN / Infinity tokens, integers beyond 64 bits, floats that
overflow, surrogate escapes, form feed or vertical tab between tokens, a
UTF-8 BOM or another encoding — and where the document is not one object whose
top-level keys appear once each without dots (ijson's prefixes would blur
them), the file is parsed whole by json.loads instead, as before streaming:
such files are rare and get the old behaviour, memory included. So are
files nested deeper than MAX_DEPTH: ijson's prefixes cost time in the square
of the depth (a 100 KiB file of "[" took 10 s, twice that depth four times as
long), so the first pass counts the depth over yajl's basic events (linear)
and such a file goes to json.loads, which refuses it quickly past its
recursion limit.
"""

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import ijson
from django.core.exceptions import ValidationError

KEYS = ("images", "annotations", "categories")
# Bytes read at a time by the passes that build nothing (held: one chunk).
CHUNK = 1 << 16
# ijson parses a buffer at a time and holds its items until they are taken:
# small buffers let each annotation die young (the garbage collector walks
# every object that outlives a collection; 64 KiB, the default, cost 40 %).
BUF_SIZE = 4096
# What yajl reads differently from json.loads (see the module docstring).
_ODD_BYTES = re.compile(rb"[\x0b\x0c]|\\u[dD][89a-fA-F]")
_NOT_JSON = ValidationError({"file": ["not valid JSON"]})
# Deeper than any import format needs (COCO's segmentation is 4 levels, a
# Label Studio task about 8): beyond it a file is parsed whole (see above).
MAX_DEPTH = 64
_STEP = {"start_map": 1, "start_array": 1, "end_map": -1, "end_array": -1}


def odd_bytes(handle) -> bool:
    """Whether the file (binary, read from its start) holds what yajl reads
    differently from json.loads: a UTF-8 BOM, form feed or vertical tab,
    a surrogate escape (see the module docstring)."""
    if handle.read(3) == b"\xef\xbb\xbf":
        return True
    tail = b""
    while chunk := handle.read(CHUNK):
        if _ODD_BYTES.search(tail + chunk):
            return True
        tail = chunk[-5:]
    return False


@contextmanager
def rewound(handle):
    """A seekable handle from its start, left open (an opener of json_array)."""
    handle.seek(0)
    yield handle


def json_array(opener, *, not_json: str, not_list: str) -> Callable[[], Iterable]:
    """The elements of a JSON file whose top level is a list, as a function
    giving them afresh, one at a time, on each call (a pass over the file).
    `opener()` is a context manager giving the file (binary) from its start.
    The file is read once here in full (a syntax error anywhere is found before
    a pass starts) and then streamed with ijson; where yajl and json.loads
    would disagree, or the top level is not a list, it is parsed whole by
    json.loads instead, as before streaming. Raises ValidationError({"file":
    [not_json]}) or ({"file": [not_list]})."""
    with opener() as handle:
        streamed = not odd_bytes(handle)
    if streamed:
        with opener() as handle:
            streamed = _starts_a_list(handle)
    if streamed:
        with opener() as handle:
            streamed = _parses_to_the_end(handle)
    if streamed:

        def items() -> Iterator:
            with opener() as handle:
                yield from ijson.items(
                    handle, "item", use_float=True, buf_size=BUF_SIZE
                )

        return items
    with opener() as handle:
        try:
            document = json.loads(handle.read())
        except (ValueError, RecursionError, UnicodeDecodeError):
            raise ValidationError({"file": [not_json]}) from None
    if not isinstance(document, list):
        raise ValidationError({"file": [not_list]})
    return lambda: iter(document)


def _starts_a_list(handle) -> bool:
    try:
        for event, _ in ijson.basic_parse(handle, buf_size=BUF_SIZE):
            return event == "start_array"
    except (ijson.JSONError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return False


def _parses_to_the_end(handle) -> bool:
    """Whether yajl reads the whole file without error, never deeper than
    MAX_DEPTH: yajl's basic events (no prefixes, nothing built)."""
    depth = 0
    try:
        for event, _ in ijson.basic_parse(handle, use_float=True, buf_size=CHUNK):
            depth += _STEP.get(event, 0)
            if depth > MAX_DEPTH:
                return False
    except (ijson.JSONError, ValueError, UnicodeDecodeError, RecursionError):
        return False
    return True


class DocumentSource:
    """The lists of a parsed COCO document (the API's JSON body, the YOLO, VOC
    and Label Studio readers)."""

    def __init__(self, document, *, item_of: dict[str, int] | None = None):
        if not isinstance(document, dict):
            raise ValidationError({"file": ["the COCO file must be a JSON object"]})
        self.document = document
        # {file_name: item id}: images whose item is known outright (the
        # images of a Label Studio zip), not looked up by name.
        self.item_of = item_of or {}
        self.problems = [
            f"{key}: missing or not a list"
            for key in KEYS
            if not isinstance(document.get(key), list)
        ]

    def categories(self) -> list:
        return self.document["categories"]

    def images(self) -> list:
        return self.document["images"]

    def annotations(self) -> Iterable:
        return self.document["annotations"]


class FileSource:
    """The lists of a COCO JSON file (binary, seekable), streamed."""

    def __init__(self, handle):
        self.handle = handle
        self.problems = []
        top = self._top_level()
        if top is None:
            # Parsed whole, as before streaming (see the module docstring).
            handle.seek(0)
            try:
                document = json.loads(handle.read())
            except (ValueError, RecursionError, UnicodeDecodeError):
                raise _NOT_JSON from None
            source = DocumentSource(document)
            self.problems = source.problems
            self._whole = source
            return
        self._whole = None
        self.problems = [
            f"{key}: missing or not a list" for key in KEYS if top.get(key) != "list"
        ]

    def _top_level(self) -> dict[str, str] | None:
        """{top-level key: "list" or "other"}, or None where this file must be
        parsed whole. Reads the whole file once: a syntax error anywhere is
        found before anything is written."""
        self.handle.seek(0)
        if odd_bytes(self.handle):
            return None
        self.handle.seek(0)
        kinds: dict[str, str] = {}
        key = None
        depth = 0
        try:
            # Basic events: no prefixes, whose cost grows with the depth.
            for event, value in ijson.basic_parse(self.handle, use_float=True):
                if key is not None:
                    kinds[key] = "list" if event == "start_array" else "other"
                    key = None
                elif depth == 0 and event != "start_map":
                    return None
                elif event == "map_key" and depth == 1:
                    if value in kinds or "." in value:
                        return None
                    key = value
                depth += _STEP.get(event, 0)
                if depth > MAX_DEPTH:
                    return None
        except (ijson.JSONError, ValueError, UnicodeDecodeError, RecursionError):
            return None
        return kinds

    def _items(self, key: str) -> Iterator:
        if self._whole is not None:
            yield from getattr(self._whole, key)()
            return
        self.handle.seek(0)
        yield from ijson.items(
            self.handle, f"{key}.item", use_float=True, buf_size=BUF_SIZE
        )

    def categories(self) -> list:
        return list(self._items("categories"))

    def images(self) -> list:
        return list(self._items("images"))

    def annotations(self) -> Iterable:
        return self._items("annotations")


def coco_source(*, document=None, handle=None):
    """The source of a COCO import: a parsed `document`, or a JSON file `handle`
    (streamed). Raises ValidationError({"file": [...]}) for a file that is not
    JSON or a document that is not an object."""
    if document is not None:
        return DocumentSource(document)
    if handle is None:
        raise ValidationError({"file": ["send a JSON file"]})
    return FileSource(handle)
