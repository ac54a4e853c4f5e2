"""The core's builtin evaluation plugin: registers the core's evaluation through the public hooks."""

from __future__ import annotations

from typing import Any

import click

from reid_core.hookspecs import hookimpl


@hookimpl
def reid_register_evaluators(register: Any) -> None:
    """Register market, standard, cloth-changing, same-clothes, regdb, celeb, sysu-all and sysu-indoor."""
    from reid_core.evaluation.protocols import PAIR_PROTOCOLS, pair_factory
    from reid_core.evaluation.sysu import sysu_factory

    for name, rule, needs_clothes, extra, description in PAIR_PROTOCOLS:
        register(
            name, pair_factory(name, rule, needs_clothes=needs_clothes, extra=extra), description=description
        )
    register(
        "sysu-all",
        sysu_factory("all"),
        description="SYSU-MM01 all-search: IR query vs visible cams 1,2,4,5 drawn per trial; dedup CMC",
    )
    register(
        "sysu-indoor",
        sysu_factory("indoor"),
        description="SYSU-MM01 indoor-search: IR query vs visible cams 1,2 drawn per trial; dedup CMC",
    )


@hookimpl
def reid_register_commands(cli: click.Group) -> None:
    """Add ``reid evaluate-features``."""
    from reid_core.evaluation.commands import evaluate_features

    cli.add_command(evaluate_features)
