import pytest

from ml.config import (
    architecture_task,
    epochs_for,
    validate_comparison_config,
    validate_model_config,
)


def test_model_config_defaults():
    cfg = validate_model_config({})
    assert cfg["architecture"] == "yolov8n.yaml"
    assert (cfg["epochs"], cfg["imgsz"], cfg["batch"]) == ("auto", 320, 16)
    assert (cfg["epoch_budget"], cfg["min_epochs"], cfg["max_epochs"]) == (
        2000,
        10,
        300,
    )
    assert (cfg["conf"], cfg["device"]) == (0.05, "cpu")
    assert validate_model_config(None) == cfg


def test_model_config_keeps_valid_values():
    cfg = validate_model_config(
        {"epochs": 3, "imgsz": 640, "lr0": 1, "device": "cuda:0"}
    )
    assert (cfg["epochs"], cfg["imgsz"], cfg["lr0"], cfg["device"]) == (
        3,
        640,
        1.0,
        "cuda:0",
    )


@pytest.mark.parametrize(
    ("cfg", "field"),
    [
        ({"epoch": 3}, "epoch:"),
        ({"epochs": True}, "epochs:"),
        ({"epochs": 0}, "epochs:"),
        ({"epochs": "10"}, "epochs:"),
        ({"imgsz": 300}, "imgsz:"),
        ({"batch": 2.0}, "batch:"),
        ({"lr0": 0}, "lr0:"),
        ({"conf": 1.5}, "conf:"),
        ({"conf": float("nan")}, "conf:"),
        ({"device": "gpu please"}, "device:"),
        ({"architecture": "yolov8n.pt"}, "architecture:"),
        ({"architecture": "../../etc/passwd.yaml"}, "architecture:"),
        ({"optimizer": "sgd"}, "optimizer:"),
    ],
)
def test_model_config_rejects_bad_fields_by_name(cfg, field):
    with pytest.raises(ValueError) as exc:
        validate_model_config(cfg)
    assert str(exc.value).startswith(field)


def test_auto_epochs_come_from_a_budget_of_images_seen():
    auto = validate_model_config({})
    # The demo's first set (70 train images) gets 29 epochs, 50 images 40...
    assert epochs_for(auto, 70) == 29 and epochs_for(auto, 50) == 40
    # ...a tiny set the cap, a large one the floor.
    assert epochs_for(auto, 3) == 300 and epochs_for(auto, 10_000) == 10
    assert epochs_for(auto, 0) == 300
    assert epochs_for(validate_model_config({"epochs": 7}), 50) == 7
    tight = validate_model_config({"epoch_budget": 1000, "max_epochs": 5})
    assert epochs_for(tight, 10) == 10  # max below min: min wins
    with pytest.raises(ValueError, match="epochs"):
        validate_model_config({"epochs": "lots"})


def test_comparison_config_defaults_and_errors():
    assert validate_comparison_config({}) == {
        "metric": "map50_95",
        "min_delta": 0.0,
        "no_class_regression": False,
        "class_tolerance": 0.02,
        "min_score": 0.05,
        "min_test_items": 10,
    }
    for cfg, field in [
        ({"metric": "f1"}, "metric:"),
        ({"min_delta": -0.1}, "min_delta:"),
        ({"no_class_regression": 1}, "no_class_regression:"),
        ({"class_tolerance": "a"}, "class_tolerance:"),
        ({"extra": 1}, "extra:"),
        ({"min_score": 2}, "min_score:"),
        ({"min_test_items": 0}, "min_test_items:"),
    ]:
        with pytest.raises(ValueError) as exc:
            validate_comparison_config(cfg)
        assert str(exc.value).startswith(field)


def test_architecture_task_recognises_segmentation_files():
    assert architecture_task("yolov8n-seg.yaml") == "segment"
    assert architecture_task("yolov8n.yaml") == "detect"
