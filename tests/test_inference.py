"""After training: ``reid_core.load``, ``reid extract`` and ``reid export`` on a tiny baseline run.

The run trains 2 x 2 iterations on 6 synthetic identities (a few seconds); the data set used for
extraction is the run's own test split, so ``reid evaluate-features`` on the written file must
reproduce the run's ``metrics.json``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from engine_support import one_thread
from PIL import Image

import reid_core
from reid_core.cli import build_cli
from reid_core.datasets.standin import LabelOnlyDataset, train_label_arrays
from reid_core.engine import train_run
from reid_core.engine.context import RunContext
from reid_core.engine.distributed import DistInfo
from reid_core.inference import export_module
from reid_core.methods import ExportError
from reid_core.methods.baseline import Baseline
from reid_core.plugins import get_plugin_manager, get_registry
from reid_core.resolve import resolve_run_config

_one_thread = pytest.fixture(autouse=True)(one_thread)

OPTIONS = {"ids": "6", "test_ids": "4", "images": "2", "cameras": "2", "height": "64", "width": "32"}
SETS = ["baseline.epochs=2", "baseline.width=16", "data.batch_size=8", "data.num_instances=2", "train.max_iters=2"]


def data_flags(cache: Path) -> list[str]:
    flags = ["--dataset", "synthetic"]
    for key, value in {**OPTIONS, "cache_dir": str(cache)}.items():
        flags += ["--option", f"{key}={value}"]
    return flags


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished tiny baseline run (its checkpoints carry the training labels)."""
    root = tmp_path_factory.mktemp("inference")
    config = resolve_run_config(Baseline, dataset="synthetic", options={**OPTIONS, "cache_dir": str(root / "cache")},
                                sets=SETS, device="cpu")
    torch.manual_seed(0)
    train_run(Baseline, config, output_dir=root / "run")
    return root / "run"


def invoke(args: list[str]) -> Any:
    return CliRunner().invoke(build_cli(get_plugin_manager()), args, catch_exceptions=False)


def cache_of(run_dir: Path) -> Path:
    return run_dir.parent / "cache"


def test_checkpoint_carries_train_labels_and_the_stand_in_rebuilds_them() -> None:
    dataset = get_registry("datasets").create("synthetic-cc", None, ids="4", test_ids="2", images="2", cameras="2",
                                               height="32", width="16")
    labels = train_label_arrays(dataset.train)
    rebuilt = LabelOnlyDataset(labels)
    assert [(s.pid, s.camid, s.clothes_id, s.modality) for s in rebuilt.train] == [
        (s.pid, s.camid, s.clothes_id, s.modality) for s in dataset.train
    ]
    assert rebuilt.num_train_pids == dataset.num_train_pids and rebuilt.query == []


@pytest.mark.slow
def test_extract_dataset_splits_reproduces_the_runs_metrics(run_dir: Path, tmp_path: Path) -> None:
    state = torch.load(run_dir / "checkpoints" / "best.pt", weights_only=True)
    assert len(state["train_labels"]["pid"]) > 0
    out = tmp_path / "feats.npz"
    result = invoke(["extract", "--run", str(run_dir), *data_flags(cache_of(run_dir)), "--output", str(out)])
    assert result.exit_code == 0, result.output
    with np.load(out, allow_pickle=False) as arrays:
        keys = set(arrays.files)
        assert {"query_features", "gallery_features", "query_pids", "query_camids", "query_paths"} <= keys
        assert arrays["query_features"].dtype == np.float32 and str(arrays["metric"]) == "euclidean"
    evaluated = invoke(["evaluate-features", str(out), "--json"])
    assert evaluated.exit_code == 0, evaluated.output
    got = json.loads(evaluated.output)
    best = json.loads((run_dir / "metrics.json").read_text())["market"]["best"]
    for key in ("rank1", "mAP", "mINP"):
        assert got[key] == pytest.approx(best[key], abs=1e-6)
    # the same file drawn without the model: reid visualize --features
    shown = invoke(["visualize", "--features", str(out), "--worst", "2", "--top", "4", "--output", str(tmp_path / "r.png")])
    assert shown.exit_code == 0 and f"mAP {best['mAP']:.1f}%" in shown.output, shown.output
    with Image.open(tmp_path / "r.png") as img:
        assert img.height > 2 * 64


@pytest.mark.slow
def test_api_extract_paths_pil_and_tensors_agree(run_dir: Path) -> None:
    model = reid_core.load(run_dir)
    assert model.name == "baseline" and model.checkpoint.name == "best.pt"
    files = sorted(str(p) for p in cache_of(run_dir).rglob("*.png"))[:5]
    by_path = model.extract(files, batch_size=2)
    by_pil = model.extract([Image.open(f) for f in files])
    by_tensor = model.extract(torch.stack([model.transform(Image.open(f).convert("RGB")) for f in files]))
    assert by_path.shape == (5, 128)
    torch.testing.assert_close(by_path, by_pil, atol=1e-5, rtol=0)
    torch.testing.assert_close(by_path, by_tensor, atol=1e-5, rtol=0)
    torch.testing.assert_close(by_path.norm(dim=1), torch.ones(5), atol=1e-5, rtol=0)
    flipped = reid_core.load(run_dir / "checkpoints" / "last.pt", sets=["baseline.flip=true"])
    assert flipped.method.cfg.flip and not torch.allclose(flipped.extract(files[:1]), model.extract(files[:1]))


@pytest.mark.slow
def test_checkpoint_and_method_flags_and_checkpoints_without_train_labels(run_dir: Path, tmp_path: Path) -> None:
    best = run_dir / "checkpoints" / "best.pt"
    wrong = CliRunner().invoke(build_cli(get_plugin_manager()), [
        "export", "--checkpoint", str(best), "--method", "icsr", "--format", "torchscript",
        "--output", str(tmp_path / "m.pt")])
    assert wrong.exit_code == 1 and "written by method 'baseline', not 'icsr'" in wrong.output
    state = torch.load(best, weights_only=True)
    del state["train_labels"]  # as written before checkpoints carried them: the data set is read instead
    old = tmp_path / "old.pt"
    torch.save(state, old)
    files = sorted(str(p) for p in cache_of(run_dir).rglob("*.png"))[:3]
    restored = reid_core.load(old, method="baseline")
    assert restored.context.dataset.name == "synthetic"
    torch.testing.assert_close(restored.extract(files), reid_core.load(best).extract(files))
    from_data = reid_core.load(best, training_data=True)  # --training-data: the data set even though labels exist
    assert from_data.context.dataset.name == "synthetic"
    torch.testing.assert_close(from_data.extract(files), restored.extract(files))


@pytest.mark.slow
def test_unreadable_images_are_named_then_skipped_by_flag(run_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "crops"
    folder.mkdir()
    for i, path in enumerate(sorted(cache_of(run_dir).rglob("*.png"))[:3]):
        (folder / f"{i}.png").write_bytes(path.read_bytes())
    (folder / "broken.jpg").write_bytes(b"not an image")
    out = tmp_path / "crops.npz"
    failed = CliRunner().invoke(build_cli(get_plugin_manager()),
                                ["extract", "--run", str(run_dir), "--images", str(folder), "--output", str(out)])
    assert failed.exit_code == 1 and "broken.jpg" in failed.output and "--skip-unreadable" in failed.output
    assert not out.exists()
    result = invoke(["extract", "--run", str(run_dir), "--images", str(folder), "--output", str(out),
                     "--skip-unreadable", "--batch-size", "2"])
    assert result.exit_code == 0, result.output
    with np.load(out, allow_pickle=False) as arrays:
        assert arrays["features"].shape == (3, 128)
        assert [Path(p).name for p in arrays["paths"]] == ["0.png", "1.png", "2.png"]
    # the file now exists: the same command is refused and the file is left as it was, unless --overwrite
    before = out.read_bytes()
    again = CliRunner().invoke(build_cli(get_plugin_manager()), ["extract", "--run", str(run_dir), "--images",
                                                                 str(folder), "--output", str(out), "--skip-unreadable"])
    assert again.exit_code == 2 and "already exists" in again.output and "--overwrite" in again.output
    assert out.read_bytes() == before
    replaced = invoke(["extract", "--run", str(run_dir), "--images", str(folder), "--output", str(out),
                       "--skip-unreadable", "--overwrite"])
    assert replaced.exit_code == 0, replaced.output


@pytest.mark.slow
@pytest.mark.parametrize("fmt,suffix", [("onnx", ".onnx"), ("torchscript", ".pt")])
def test_export_command_matches_eager_features(run_dir: Path, tmp_path: Path, fmt: str, suffix: str) -> None:
    from reid_core.inference.export import run_exported

    out = tmp_path / f"model{suffix}"
    result = invoke(["export", "--run", str(run_dir), "--format", fmt, "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "max |exported - eager|" in result.output
    model = reid_core.load(run_dir)
    files = sorted(str(p) for p in cache_of(run_dir).rglob("*.png"))[:4]
    images = torch.stack([model.transform(Image.open(f).convert("RGB")) for f in files])
    np.testing.assert_allclose(run_exported(out, fmt, images), model.extract(files).numpy(), atol=1e-4, rtol=0)


def test_bad_inputs_are_one_line_errors(tmp_path: Path) -> None:
    runner = CliRunner()
    cli = build_cli(get_plugin_manager())
    missing = runner.invoke(cli, ["extract", "--run", str(tmp_path / "nope"), "--images", str(tmp_path),
                                  "--output", str(tmp_path / "f.npz")])
    assert missing.exit_code != 0 and "no image file" in missing.output
    both = runner.invoke(cli, ["export", "--format", "onnx", "--output", str(tmp_path / "m.onnx")])
    assert both.exit_code == 2 and "--run DIR or --checkpoint FILE" in both.output
    suffix = runner.invoke(cli, ["export", "--run", str(tmp_path), "--format", "onnx", "--output", "m.pt"])
    assert suffix.exit_code == 2 and ".onnx" in suffix.output
    empty = tmp_path / "empty-run"
    empty.mkdir()
    norun = runner.invoke(cli, ["export", "--run", str(empty), "--format", "torchscript", "--output", "m.pt"])
    assert norun.exit_code == 1 and "checkpoints/best.pt" in norun.output and "Traceback" not in norun.output


def _baseline(tmp_path: Path, *sets: str) -> Baseline:
    config = resolve_run_config(Baseline, profile="quick", sets=["baseline.width=8", "data.height=32",
                                                                 "data.width=16", *sets])
    labels = {"pid": [0, 0, 1, 1, 2, 2], "camid": [0, 1] * 3, "clothes_id": [-1] * 6, "modality": [-1] * 6}
    context = RunContext(config, LabelOnlyDataset(labels), DistInfo(), tmp_path)
    method = Baseline(config, context)
    context.method = method
    method.setup_stage(method.stages()[0])
    return method


@pytest.mark.parametrize("fmt", ["onnx", "torchscript"])
def test_baseline_exports_with_flip_and_a_dynamic_batch(tmp_path: Path, fmt: str) -> None:
    method = _baseline(tmp_path, "baseline.flip=true")
    report = export_module(method.export_module(), tmp_path / f"m.{fmt}", fmt, height=32, width=16)
    assert report.max_abs_diff <= 1e-4 and report.batch_sizes == (1, 3) and report.feature_dim == 64


class _NeedsCamera(Baseline):
    name = "baseline"

    def extract_features(self, batch: dict[str, Any]) -> torch.Tensor:
        return super().extract_features(batch) * (1 + batch["camid"].float()[:, None])


class _TwoNetworks(Baseline):
    name = "baseline"

    def export_module(self) -> torch.nn.Module:
        raise ExportError("its test features need the pose network's keypoints of every image")


def test_a_method_that_cannot_be_exported_says_why(tmp_path: Path) -> None:
    method = _baseline(tmp_path)
    method.__class__ = _NeedsCamera
    with pytest.raises(ExportError, match=r"reads batch\['camid'\]"):
        export_module(method.export_module(), tmp_path / "m.pt", "torchscript", height=32, width=16)
    method.__class__ = _TwoNetworks
    with pytest.raises(ExportError, match="pose network"):
        method.export_module()


def test_evaluate_features_takes_the_metric_the_file_names(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    arrays = {"query_features": rng.normal(size=(6, 4)).astype(np.float32) * rng.uniform(0.1, 5, (6, 1)),
              "gallery_features": rng.normal(size=(12, 4)).astype(np.float32) * rng.uniform(0.1, 5, (12, 1)),
              "query_pids": np.arange(6) % 3, "gallery_pids": np.arange(12) % 3,
              "query_camids": np.zeros(6, dtype=np.int64), "gallery_camids": np.ones(12, dtype=np.int64)}
    plain, named = tmp_path / "plain.npz", tmp_path / "named.npz"
    np.savez(plain, **arrays)
    np.savez(named, **arrays, metric=np.asarray("cosine"))
    results = {}
    for name, args in {"default": [str(plain)], "cosine": [str(plain), "--metric", "cosine"],
                       "named": [str(named)], "override": [str(named), "--metric", "euclidean"]}.items():
        result = invoke(["evaluate-features", *args, "--json"])
        assert result.exit_code == 0, result.output
        results[name] = json.loads(result.output)["mAP"]
    assert results["named"] == results["cosine"] and results["override"] == results["default"]
    assert results["cosine"] != results["default"]


@pytest.mark.slow
def test_extraction_over_two_ranks_gives_the_single_process_arrays(run_dir: Path, monkeypatch: pytest.MonkeyPatch,
                                                                   tmp_path: Path) -> None:
    """Under torchrun each rank extracts its share and the shares are gathered in order: simulated
    here rank by rank (the real two-node run is tests/test_engine_multinode.py), with an unreadable
    image on rank 1's share left out."""
    from reid_core.engine import distributed
    from reid_core.engine.distributed import DistInfo
    from reid_core.inference import extract

    model = reid_core.load(run_dir)
    files = sorted(str(p) for p in cache_of(run_dir).rglob("*.png"))[:5]
    (tmp_path / "broken.png").write_bytes(b"not a png")
    files.append(str(tmp_path / "broken.png"))
    single = extract.extract_images(model, files, skip_unreadable=True)
    parts: dict[int, tuple[np.ndarray, list[int]]] = {}
    for rank in (0, 1):
        monkeypatch.setattr(extract, "process_group", lambda rank=rank: DistInfo(rank=rank, world_size=2))
        monkeypatch.setattr(distributed, "gather_objects", lambda obj, info: (parts.setdefault(info.rank, obj), [obj])[1])
        extract.extract_images(model, files, skip_unreadable=True)
    assert parts[0][1] == [0, 1, 2] and parts[1][1] == [3, 4]  # rank 1 left the broken image out
    monkeypatch.setattr(distributed, "gather_objects", lambda obj, info: [parts[0], parts[1]])
    gathered = extract.extract_images(model, files, skip_unreadable=True)
    assert list(gathered["paths"]) == list(single["paths"]) == files[:5]
    np.testing.assert_allclose(gathered["features"], single["features"], atol=1e-5, rtol=0)
