"""``reid synth``: write a fixture tree in a public layout, or a contact sheet."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import click
from PIL import Image

from reid_core.datasets.synthetic.preview import PREVIEW_PRESETS


def add_synth_command(cli: click.Group) -> None:
    """Add ``reid synth`` to ``cli``."""

    @cli.command("synth")
    @click.argument("root", required=False, type=click.Path(file_okay=False))
    @click.option("--like", "fmt", metavar="FORMAT",
                  help="Write ROOT/<data set folder>/... in the layout of a public data set (market1501, ...).")
    @click.option("--ids", type=click.IntRange(min=1), default=None, help="Identities to generate (--like).")
    @click.option("--seed", type=int, default=0, show_default=True, help="World seed.")
    @click.option("--force", is_flag=True,
                  help="Write into a non-empty ROOT (existing files are still never overwritten).")
    @click.option("--preview", "preview", type=click.Path(dir_okay=False), default=None,
                  help="Write a contact sheet PNG (rows = people, columns = cameras/outfits/modalities).")
    @click.option("--preset", type=click.Choice(PREVIEW_PRESETS), default="overview", show_default=True,
                  help="Which preset the contact sheet shows.")
    @click.option("--rows", type=click.IntRange(min=1, max=64), default=8, show_default=True,
                  help="People in the contact sheet.")
    @click.option("--scale", type=click.IntRange(min=1, max=8), default=1, show_default=True,
                  help="Integer zoom of the contact sheet.")
    @click.option("--colours", type=click.IntRange(min=0, max=256), default=0, show_default=True,
                  help="Reduce the contact sheet to a palette of N colours (smaller file); 0 keeps full RGB.")
    def synth_cmd(root: str | None, fmt: str | None, ids: int | None, seed: int, force: bool, preview: str | None,
                  preset: str, rows: int, scale: int, colours: int) -> None:
        """Generate synthetic persons: a fixture tree (--like FORMAT ROOT) or a contact sheet (--preview OUT.png)."""
        if (fmt is None) == (preview is None):
            raise click.UsageError("give exactly one of --like FORMAT ROOT or --preview OUT.png")
        if preview is not None:
            from reid_core.datasets.synthetic.preview import contact_sheet

            sheet = contact_sheet(preset, rows=rows, scale=scale)
            if colours:
                sheet = sheet.quantize(colours, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
            out = Path(preview)
            try:
                out.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".png", dir=out.parent)
            except OSError as exc:
                raise click.ClickException(
                    f"cannot write {preview!r} ({exc.strerror or exc}); choose a folder you can write to"
                ) from None
            os.close(fd)
            try:
                sheet.save(tmp, format="PNG", optimize=True)
                os.chmod(tmp, 0o644)
                os.replace(tmp, out)
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            click.echo(f"wrote {out} ({sheet.width}x{sheet.height}, preset {preset}, {rows} people)")
            return
        if root is None:
            raise click.UsageError("--like FORMAT needs ROOT: the folder to write the data set's folder into")
        from reid_core.datasets.fixtures import write_layout

        target = Path(root).expanduser()
        if target.is_dir() and any(target.iterdir()) and not force:
            shown = ", ".join(sorted(p.name for p in target.iterdir())[:3])
            raise click.ClickException(
                f"{root!r} is not empty (it holds {shown}...); synthetic images must not mix with a real data set: "
                "choose an empty folder, or pass --force to add a tree beside what is there"
            )

        kwargs = {"seed": seed} if ids is None else {"ids": ids, "seed": seed}
        stats = write_layout(fmt, root, **kwargs)
        click.echo(json.dumps(stats, indent=2, default=str))
