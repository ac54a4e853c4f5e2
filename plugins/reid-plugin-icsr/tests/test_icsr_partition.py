"""Local partition files: atomic round trip and the missing-image error."""

from __future__ import annotations

from pathlib import Path

import pytest
from reid_plugin_icsr.partition import PartitionError, local_labels_for, read_partitions, write_partitions


def test_round_trip_and_lookup(tmp_path: Path) -> None:
    parts = {1: {"a/0001_c2.jpg": 3, "a/0002_c2.jpg": 0}, 0: {"a/0001_c1.jpg": 1}}
    path = tmp_path / "sub" / "local_labels.json"
    write_partitions(path, parts)
    assert read_partitions(path) == parts
    assert list(tmp_path.joinpath("sub").iterdir()) == [path]  # no temporary file left
    labels = local_labels_for(["a/0002_c2.jpg", "a/0001_c1.jpg"], [1, 0], read_partitions(path))
    assert labels.tolist() == [0, 1]


def test_missing_image_and_camera_are_named(tmp_path: Path) -> None:
    parts = {0: {"x.jpg": 0}}
    with pytest.raises(PartitionError, match=r"'y\.jpg'"):
        local_labels_for(["x.jpg", "y.jpg", "z.jpg"], [0, 0, 0], parts, "f.json")
    with pytest.raises(PartitionError, match="camera 4"):
        local_labels_for(["x.jpg", "w.jpg"], [0, 4], parts)
    with pytest.raises(PartitionError, match="does not exist"):
        read_partitions(tmp_path / "nope.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(PartitionError, match="not valid JSON"):
        read_partitions(bad)
