"""Model pre-annotations for the browser tests and the benchmarks, seeded the way
an import does it: a COCO document through annotate's predictions import
(source "model:0", the score as confidence), never rows written by hand."""


def coco_predictions(project, predictions: dict) -> dict:
    """A COCO document of `predictions` ({item: [shape + "confidence"]})."""
    categories = [{"id": i + 1, "name": n} for i, n in enumerate(project.labels)]
    cat = {c["name"]: c["id"] for c in categories}
    images, annotations = [], []
    for item, shapes in predictions.items():
        images.append({"id": item.pk, "file_name": item.original_name})
        for shape in shapes:
            ann = {
                "id": len(annotations) + 1,
                "image_id": item.pk,
                "category_id": cat[shape["label"]],
                "score": shape["confidence"],
            }
            if shape["kind"] == "box":
                ann["bbox"] = list(shape["bbox"])
            else:
                ann["segmentation"] = [[v for p in shape["points"] for v in p]]
            annotations.append(ann)
    return {"images": images, "annotations": annotations, "categories": categories}


def seed_predictions(project, actor, predictions: dict) -> dict:
    from annotate.services.imports import coco_import

    document = coco_predictions(project, predictions)
    return coco_import(
        project=project, document=document, as_="predictions", actor=actor
    )
