"""The released AIM checkpoint layout (``reid eval aim --from official``): key mapping and layout errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from official_layout import official_state, write_official
from reid_plugin_aim.config import PROFILES, AIMConfig
from reid_plugin_aim.method import AIM
from reid_plugin_aim.official import OfficialCheckpointError, from_official

from reid_core import config as cfg
from reid_core.data.sample import Sample
from reid_core.datasets.base import ReidDataset
from reid_core.engine.checkpoint import load_foreign
from reid_core.methods import Stage


class _Context:
    def __init__(self, config: object, dataset: ReidDataset) -> None:
        self.config, self.dataset = config, dataset
        self.device = torch.device("cpu")
        self.rank, self.world_size, self.is_main, self.output_dir = 0, 1, True, Path(".")

    def prepare(self, module: torch.nn.Module, **_: object) -> torch.nn.Module:
        return module


def _method(seed: int, ids: int = 3) -> AIM:
    torch.manual_seed(seed)
    run_cls = cfg.run_config_class("aim", AIMConfig)
    config = cfg.resolve(run_cls, PROFILES["quick"],
                         {"aim": {"backbone": "resnet18", "width": 8, "pretrained": "none", "part_dim": 8}})
    train = [Sample(path=f"/x/{p}_{c}.jpg", pid=p, camid=c, clothes_id=2 * p + c) for p in range(ids) for c in (0, 1)]
    method = AIM(config, _Context(config, ReidDataset(train, [], [])))
    method.setup_stage(Stage("train", 1))
    return method


def _states(method: AIM) -> dict[str, dict[str, torch.Tensor]]:
    return {name: module.state_dict() for name, module in method.modules().items()}


def test_official_layout_spells_the_released_module_names() -> None:
    state = official_state(_states(_method(0)))
    assert {"conv1.weight", "layer4.1.bn2.running_var", "bn.weight"} <= set(state["model_state_dict"])
    assert {"features.layer1.0.conv1.weight", "features.fc.weight", "global_conv.weight", "global_bn.running_mean",
            "pcb2_conv_list.1.weight", "pcb8_batchnorm_list.7.num_batches_tracked", "trans.weight",
            "bn.bias"} <= set(state["model2_state_dict"])
    assert {"attentions.conv.weight", "attentions.bn.running_var", "linear.weight",
            "bn.weight"} <= set(state["fuse_state_dict"])
    assert set(state["classifier_state_dict"]) == {"classifier.weight", "classifier.bias"}


@pytest.mark.parametrize("head", ["trans", "linear"])
def test_official_weights_load_into_a_fresh_method_exactly(tmp_path: Path, head: str) -> None:
    source, target = _method(0), _method(1)
    path = write_official(_states(source), tmp_path / "aim_prcc.pth.tar", head=head)
    converted = target.convert_checkpoint("official", load_foreign(path))  # numpy rank1 is read safely
    assert set(converted) == set(source.modules())
    for name, module in target.modules().items():
        module.load_state_dict(converted[name], strict=True)
        for key, value in module.state_dict().items():
            assert torch.equal(value, source.modules()[name].state_dict()[key]), (name, key)
    source.train(False)
    target.train(False)
    images = torch.randn(2, 3, 32, 16)
    torch.testing.assert_close(target.extract_features({"img": images}), source.extract_features({"img": images}))


def test_only_the_id_branch_is_required_and_classifiers_of_another_split_are_left_out(tmp_path: Path) -> None:
    state = official_state(_states(_method(0, ids=3)))
    assert set(from_official({"model_state_dict": state["model_state_dict"]})) == {"model"}
    other = _method(1, ids=4)  # another data set: 4 train ids, 8 outfits
    converted = other.convert_checkpoint("official", state)
    assert set(converted) == {"model", "model2", "fuse"}


def test_a_file_without_the_id_branch_is_refused_naming_its_keys() -> None:
    with pytest.raises(OfficialCheckpointError, match=r"no 'model_state_dict'.*this file has: 'epoch', 'state_dict'"):
        from_official({"state_dict": {}, "epoch": 3})


def test_unknown_keys_are_refused_by_name() -> None:
    state = official_state(_states(_method(0)))
    state["model2_state_dict"]["pcb16_conv_list.0.weight"] = torch.zeros(1)
    with pytest.raises(OfficialCheckpointError, match=r"model2_state_dict has key\(s\).*'pcb16_conv_list.0.weight'"):
        from_official(state)
    state = official_state(_states(_method(0)))
    state["optimizer"] = {}
    with pytest.raises(OfficialCheckpointError, match=r"unexpected top-level key\(s\) \['optimizer'\]"):
        from_official(state)


def test_ddp_prefix_is_stripped() -> None:
    state = official_state(_states(_method(0)))
    state["model_state_dict"] = {"module." + k: v for k, v in state["model_state_dict"].items()}
    assert "backbone.conv1.weight" in from_official(state)["model"]
