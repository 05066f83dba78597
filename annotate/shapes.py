"""A shape in the API's form ({"kind", "label", "bbox" | "points"}) and the
geometry an Annotation stores ({"bbox": [x, y, w, h]} or {"points": [[x, y], ...]})."""


def shape_geometry(shape: dict) -> dict:
    """The stored geometry of a shape (a box's bbox, a polygon's points), as lists."""
    if shape["kind"] == "box":
        return {"bbox": list(shape["bbox"])}
    return {"points": [list(p) for p in shape["points"]]}
