"""Real ultralytics on a dozen tiny generated images, with the network blocked."""

from __future__ import annotations

import json

import numpy as np
import pytest

from ml.config import validate_model_config
from ml.datasets import write_yolo_dataset
from ml.training import TrainingCancelled
from ml.types import Detection, ImagePrediction
from tests import network_guard
from tests.ml.synthetic import CLASSES, synthetic_ground_truth

IMGSZ = 64


@pytest.fixture(scope="module")
def backend(yolo_offline):
    from ml.backends import ultralytics

    return ultralytics


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    root = tmp_path_factory.mktemp("yolo-data")
    images = synthetic_ground_truth(root / "src", n=12, size=IMGSZ)
    return images, write_yolo_dataset(images, CLASSES, root / "detect")


@pytest.fixture(scope="module")
def trained(backend, dataset, tmp_path_factory):
    _, data_yaml = dataset
    reports = []
    config = validate_model_config({"epochs": 1, "imgsz": IMGSZ, "batch": 4})
    result = backend.train(
        data_yaml,
        "yolov8n.yaml",
        tmp_path_factory.mktemp("run"),
        config,
        reports.append,
    )
    return result, reports


def test_setup_offline_is_idempotent_and_disables_every_phone_home(
    backend, yolo_offline
):
    user_dir = backend.setup_offline(yolo_offline)
    assert (user_dir / "Arial.ttf").stat().st_size > 100_000
    assert (user_dir / "Arial.Unicode.ttf").exists()
    from ultralytics import settings

    keys = ("sync", *backend.INTEGRATION_KEYS)
    assert all(settings[k] is False for k in keys if k in settings)


def test_one_epoch_trains_reports_progress_and_touches_no_network(trained):
    result, reports = trained
    assert result.weights_path.is_file() and result.weights_path.suffix == ".pt"
    assert result.epochs_run == 1
    assert [(r.epoch, r.epochs) for r in reports] == [(1, 1)]
    assert {"box_loss", "cls_loss", "dfl_loss"} <= set(reports[0].losses)
    assert {"map50", "map50_95", "precision", "recall"} <= set(reports[0].metrics)
    assert reports[0].eta_seconds == 0.0
    assert "epoch 1/1" in result.log and "epochs completed" in result.log
    assert set(result.metrics) >= {"map50", "map50_95", "precision", "recall"}
    assert network_guard.pending() == []  # and the autouse guard checks again


def test_validate_on_test_split_returns_the_metric_dict(backend, trained, dataset):
    metrics = backend.validate(trained[0].weights_path, dataset[1], "test", imgsz=IMGSZ)
    assert all(
        0.0 <= metrics[k] <= 1.0 for k in ("map50", "map50_95", "precision", "recall")
    )
    assert set(metrics["per_class"]) == set(CLASSES)  # the test split holds both
    assert metrics["per_class"]["square"]["instances"] == 1
    matrix = metrics["confusion_matrix"]
    assert metrics["confusion_labels"] == [*CLASSES, "background"]
    assert len(matrix) == len(CLASSES) + 1 and all(
        len(r) == len(CLASSES) + 1 for r in matrix
    )
    # Each of the two ground-truth boxes is counted once (column sums).
    assert sum(row[c] for row in matrix for c in range(len(CLASSES))) == 2
    json.dumps(metrics)  # stored as JSON by the app
    assert network_guard.pending() == []  # and the autouse guard checks again


def test_score_images_attaches_a_class_score_vector_to_every_box(
    backend, trained, dataset
):
    paths = [img.path for img in dataset[0]]
    preds = list(
        backend.score_images(
            trained[0].weights_path, paths, imgsz=IMGSZ, conf=1e-4, batch=4
        )
    )
    assert [p.path for p in preds] == paths
    dets = [d for p in preds for d in p.detections]
    # A one-epoch model is unsure of everything: at conf 1e-4 boxes survive NMS,
    # so the raw-output indexing path really runs.
    assert dets
    for d in dets:
        assert len(d.class_scores) == len(CLASSES)
        assert d.label in CLASSES
        # The label is the argmax of the vector and its score is the confidence.
        assert d.class_scores[CLASSES.index(d.label)] == pytest.approx(
            d.confidence, abs=1e-6
        )
        assert max(d.class_scores) == pytest.approx(d.confidence, abs=1e-6)
        x, y, w, h = d.bbox
        assert 0 <= x and 0 <= y and x + w <= IMGSZ + 0.01 and y + h <= IMGSZ + 0.01
    assert all(p.embedding is not None and len(p.embedding) > 0 for p in preds)
    # The in-pass embedding equals what YOLO.embed computes separately.
    separate = backend.embed(trained[0].weights_path, paths[:2], imgsz=IMGSZ)
    assert len(separate[0]) == len(preds[0].embedding)
    assert np.allclose(separate[0], preds[0].embedding, atol=1e-4)
    assert network_guard.pending() == []  # and the autouse guard checks again


def test_score_images_gives_the_files_own_pixel_embedding_for_pngs(
    backend, trained, tmp_path
):
    """The pixel embedding taken from the decoded pixels is exactly the one
    read from the file, for PNGs of every 8-bit mode; a JPEG gets none (its
    file embedding decodes downscaled, see ml.embeddings), nor does a
    mirrored pass."""
    from PIL import Image

    from ml.embeddings import pixel_embedding

    rng = np.random.default_rng(7)
    rgb = Image.fromarray(rng.integers(0, 256, (40, 56, 3), dtype=np.uint8))
    paths = []
    for mode in ("RGB", "RGBA", "L", "P", "LA"):
        path = tmp_path / f"{mode}.png"
        (rgb.quantize(64) if mode == "P" else rgb.convert(mode)).save(path)
        paths.append(str(path))
    jpeg = tmp_path / "photo.jpg"
    rgb.save(jpeg, quality=90)
    paths.append(str(jpeg))
    preds = list(
        backend.score_images(trained[0].weights_path, paths, imgsz=IMGSZ, batch=4)
    )
    for pred, path in zip(preds[:-1], paths[:-1], strict=True):
        assert pred.pixel_embedding == pixel_embedding(path), path
    assert preds[-1].pixel_embedding is None
    mirrored = backend.score_images(
        trained[0].weights_path, paths[:1], imgsz=IMGSZ, flip=True, embed=False
    )
    assert next(iter(mirrored)).pixel_embedding is None


def test_score_images_feeds_ultralytics_one_batch_at_a_time(
    backend, trained, dataset, monkeypatch
):
    # ultralytics turns a list source into a single batch; 10,000 paths must
    # not become one forward pass.
    from ml.backends.ultralytics import inference

    cls = inference._predictor_classes()["detect"]
    original, sizes = cls.postprocess, []

    def spy(self, preds, img, orig_imgs, **kwargs):
        sizes.append(img.shape[0])
        return original(self, preds, img, orig_imgs, **kwargs)

    monkeypatch.setattr(cls, "postprocess", spy)
    paths = [img.path for img in dataset[0]]
    preds = list(
        backend.score_images(trained[0].weights_path, paths, imgsz=IMGSZ, batch=5)
    )
    assert sizes == [5, 5, 2]
    assert [p.path for p in preds] == paths
    assert all(p.embedding is not None for p in preds)


def test_predict_at_scoring_conf_yields_well_formed_predictions(
    backend, trained, dataset
):
    paths = [img.path for img in dataset[0][:3]]
    preds = list(
        backend.predict(trained[0].weights_path, paths, imgsz=IMGSZ, conf=0.05)
    )
    assert len(preds) == 3
    for p in preds:
        assert isinstance(p, ImagePrediction) and (p.width, p.height) == (IMGSZ, IMGSZ)
        assert p.embedding is None
        assert all(
            isinstance(d, Detection) and d.confidence >= 0.05 for d in p.detections
        )


def test_segmentation_model_yields_polygons_with_score_vectors(
    backend, dataset, tmp_path
):
    images, _ = dataset
    data_yaml = write_yolo_dataset(images, CLASSES, tmp_path / "seg", task="segment")
    config = validate_model_config({"epochs": 1, "imgsz": IMGSZ, "batch": 4})
    result = backend.train(data_yaml, "yolov8n-seg.yaml", tmp_path / "run", config)
    preds = list(
        backend.score_images(
            result.weights_path, [i.path for i in images[:4]], imgsz=IMGSZ, conf=1e-4
        )
    )
    dets = [d for p in preds for d in p.detections]
    assert all(len(d.class_scores) == len(CLASSES) for d in dets)
    assert all(d.points is None or len(d.points) >= 3 for d in dets)


def test_cancel_stops_training_after_the_current_epoch(backend, dataset, tmp_path):
    config = validate_model_config({"epochs": 3, "imgsz": IMGSZ, "batch": 4})
    with pytest.raises(TrainingCancelled) as exc:
        backend.train(dataset[1], "yolov8n.yaml", tmp_path, config, cancel=lambda: True)
    assert exc.value.result.epochs_run == 1
    assert exc.value.result.weights_path.is_file()


def test_build_base_never_resolves_weight_names_it_would_download(backend, tmp_path):
    with pytest.raises(FileNotFoundError):
        backend.build_base(weights=tmp_path / "yolov8n.pt")
    with pytest.raises(ValueError):
        backend.build_base(architecture="yolov8n.pt")
    with pytest.raises(ValueError):
        backend.build_base("yolov8n.yaml", tmp_path / "x.pt")
    assert (
        backend.build_base(architecture="yolov8n.yaml", task="detect").task == "detect"
    )
    with pytest.raises(ValueError, match="detect model"):
        backend.build_base(architecture="yolov8n.yaml", task="segment")
