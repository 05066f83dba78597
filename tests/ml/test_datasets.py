import logging
from pathlib import Path

import pytest
from PIL import Image

from ml.datasets import write_yolo_dataset
from ml.types import BoxShape, GroundTruthImage, PolygonShape


def image(tmp_path, name, split, shapes=(), size=(100, 50), fmt=None):
    path = tmp_path / "src" / name
    path.parent.mkdir(exist_ok=True)
    Image.new("RGB", size, (10, 20, 30)).save(path, format=fmt)
    return GroundTruthImage(str(path), size[0], size[1], tuple(shapes), split)


def yaml_lines(data_yaml: Path) -> list[str]:
    return data_yaml.read_text().splitlines()


def labels_of(out: Path, split: str) -> dict[str, str]:
    return {
        p.stem: p.read_text() for p in sorted((out / "labels" / split).glob("*.txt"))
    }


def test_detect_dataset_layout_labels_and_yaml(tmp_path):
    imgs = [
        image(tmp_path, "a b.png", "train", [BoxShape("car", (10, 10, 20, 10))]),
        image(
            tmp_path, "c.png", "val", [PolygonShape("dog", ((0, 0), (50, 0), (50, 25)))]
        ),
        image(tmp_path, "d.png", "test"),
    ]
    out = tmp_path / "ds"
    data = write_yolo_dataset(imgs, ["car", "dog"], out)
    lines = yaml_lines(data)
    assert f'path: "{out.resolve()}"' in lines
    assert {'train: "images/train"', 'val: "images/val"', 'test: "images/test"'} <= set(
        lines
    )
    assert lines[-3:] == ["names:", '  0: "car"', '  1: "dog"']
    assert not any(line.startswith(("download", "#")) for line in lines)
    assert labels_of(out, "train") == {
        "000000_a_b": "0 0.200000 0.300000 0.200000 0.200000\n"
    }
    # A polygon becomes its bounding box for detection.
    assert labels_of(out, "val") == {
        "000001_c": "1 0.250000 0.250000 0.500000 0.500000\n"
    }
    assert labels_of(out, "test") == {"000002_d": ""}  # background image
    linked = out / "images" / "train" / "000000_a_b.png"
    assert linked.is_symlink() and linked.resolve() == Path(imgs[0].path).resolve()


def test_segment_dataset_writes_polygons_and_boxes_as_four_points(tmp_path):
    imgs = [
        image(
            tmp_path,
            "a.png",
            "train",
            [
                BoxShape("car", (10, 10, 20, 10)),
                PolygonShape("car", ((0, 0), (50, 0), (50, 25))),
            ],
        )
    ]
    out = tmp_path / "ds"
    write_yolo_dataset(imgs, ["car"], out, task="segment", link=False)
    text = labels_of(out, "train")["000000_a"].splitlines()
    assert text == [
        "0 0.100000 0.200000 0.300000 0.200000 0.300000 0.400000 0.100000 0.400000",
        "0 0.000000 0.000000 0.500000 0.000000 0.500000 0.500000",
    ]
    assert not (out / "images" / "train" / "000000_a.png").is_symlink()


def test_empty_val_reuses_train_and_says_so(tmp_path, caplog):
    imgs = [image(tmp_path, "a.png", "train"), image(tmp_path, "b.png", "train")]
    with caplog.at_level(logging.WARNING, logger="ml.datasets"):
        data = write_yolo_dataset(imgs, ["car"], tmp_path / "ds")
    lines = yaml_lines(data)
    assert 'val: "images/train"' in lines
    assert not any(line.startswith("test:") for line in lines)
    assert any("val split is empty" in line for line in lines if line.startswith("#"))
    assert "val split is empty" in caplog.text


def test_evaluation_only_dataset_points_train_and_val_at_test(tmp_path):
    imgs = [image(tmp_path, "a.png", "test"), image(tmp_path, "b.png", "train")]
    data = write_yolo_dataset(imgs, ["car"], tmp_path / "ds", splits=("test",))
    lines = yaml_lines(data)
    assert {'train: "images/test"', 'val: "images/test"', 'test: "images/test"'} <= set(
        lines
    )
    assert not (tmp_path / "ds" / "images" / "train").exists()


def test_unreadable_format_for_ultralytics_is_converted_to_png(tmp_path):
    imgs = [image(tmp_path, "anim.gif", "train", fmt="GIF")]
    write_yolo_dataset(imgs, ["car"], tmp_path / "ds")
    assert [p.name for p in (tmp_path / "ds" / "images" / "train").iterdir()] == [
        "000000_anim.png"
    ]


def test_invalid_input_is_rejected(tmp_path):
    img = image(tmp_path, "a.png", "train", [BoxShape("cat", (1, 1, 5, 5))])
    with pytest.raises(ValueError, match="'cat' is not in class_names"):
        write_yolo_dataset([img], ["car"], tmp_path / "ds1")
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("")
    with pytest.raises(ValueError, match="not empty"):
        write_yolo_dataset([], ["car"], busy)
    with pytest.raises(ValueError, match="no images"):
        write_yolo_dataset([], ["car"], tmp_path / "ds2")
    with pytest.raises(ValueError, match="task"):
        write_yolo_dataset([], ["car"], tmp_path / "ds3", task="pose")
    with pytest.raises(ValueError, match="unique"):
        write_yolo_dataset([], ["car", "car"], tmp_path / "ds4")


def test_ground_truth_image_rejects_unknown_split(tmp_path):
    with pytest.raises(ValueError, match="split"):
        GroundTruthImage("x.png", 10, 10, (), "holdout")
