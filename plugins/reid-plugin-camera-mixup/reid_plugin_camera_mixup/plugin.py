"""Hook implementations of the camera-mixup plugin: the method, its sampler and the trapezoid-AP evaluator."""

from __future__ import annotations

from typing import Any

from reid_core import hookimpl


@hookimpl
def reid_register_methods(register: Any) -> None:
    """Register the camera-mixup method."""
    from reid_plugin_camera_mixup.method import CameraMixup

    register("camera-mixup", CameraMixup,
             description="camera-aware invariance + cross-domain mixup (ECCV 2020): --source S --dataset T")


@hookimpl
def reid_register_samplers(register: Any) -> None:
    """Register the half-source / half-target ``cross-domain`` sampler."""
    from reid_plugin_camera_mixup.sampler import cross_domain_factory

    register("cross-domain", cross_domain_factory,
             description="batches of half source, half target images (option num_source)")


@hookimpl
def reid_register_evaluators(register: Any) -> None:
    """Register ``market-trapezoid``: the market protocol with Market-1501's official (trapezoid) AP."""
    from reid_plugin_camera_mixup.evaluation import market_trapezoid

    register("market-trapezoid", market_trapezoid,
             description="market protocol with Market-1501's official trapezoid AP (camera-mixup's numbers)")
