"""ImageDataset items, pseudo labels, and unreadable images."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from reid_core.data import ImageDataset, Sample, build_test_transform
from reid_core.datasets import DatasetError


def _png(path: Path, colour: tuple[int, int, int] = (200, 10, 10), size: tuple[int, int] = (16, 32)) -> str:
    Image.new("RGB", size, colour).save(path)
    return str(path)


def test_items_and_batch(tmp_path: Path) -> None:
    samples = [
        Sample(_png(tmp_path / "a.png"), pid=3, camid=1, clothes_id=2, modality="infrared"),
        Sample(_png(tmp_path / "b.png"), pid=4, camid=0),
    ]
    ds = ImageDataset(samples, build_test_transform(32, 16))
    item = ds[0]
    assert item["img"].shape == (3, 32, 16)
    assert (item["pid"], item["camid"], item["clothes_id"], item["modality"], item["index"]) == (3, 1, 2, 1, 0)
    assert (ds[1]["clothes_id"], ds[1]["modality"]) == (-1, -1)
    batch = next(iter(DataLoader(ds, batch_size=2)))
    assert batch["pid"].dtype == torch.long and batch["img"].shape == (2, 3, 32, 16)
    assert batch["index"].tolist() == [0, 1]
    assert ds.pids == [3, 4] and ds.camids == [1, 0] and ds.modalities == [1, -1]


def test_labels_override_pid(tmp_path: Path) -> None:
    samples = [Sample(_png(tmp_path / "a.png"), pid=3, camid=1), Sample(_png(tmp_path / "b.png"), pid=4, camid=0)]
    ds = ImageDataset(samples, None, labels=[-1, 7])
    assert ds[0]["pid"] == -1 and ds[1]["pid"] == 7 and ds.pids == [-1, 7]
    assert isinstance(ds[0]["img"], Image.Image)
    with pytest.raises(ValueError, match="labels"):
        ImageDataset(samples, None, labels=[1])


def test_truncated_and_missing_images_name_the_path(tmp_path: Path) -> None:
    good = Path(_png(tmp_path / "full.png", size=(64, 128)))
    data = good.read_bytes()
    broken = tmp_path / "broken.png"
    broken.write_bytes(data[: len(data) // 2])
    ds = ImageDataset([Sample(str(broken), 0, 0), Sample(str(tmp_path / "gone.jpg"), 0, 0)], None)
    with pytest.raises(DatasetError, match=r"broken\.png"):
        ds[0]
    with pytest.raises(DatasetError, match=r"gone\.jpg"):
        ds[1]
