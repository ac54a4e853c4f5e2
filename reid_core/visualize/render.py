"""Draw ranked galleries: a PNG grid (one row per query) or a self-contained HTML page.

Borders: blue for the query, green for a match, red for a wrong identity, grey for an item the
protocol ignores (the reason is written under it: same camera, same/other clothes, junk).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from typing import Any

from PIL import Image, ImageDraw, ImageFont

from reid_core.data.image_dataset import read_image
from reid_core.evaluation.explain import IGNORED, MATCH, WRONG, RankedQuery

COLOURS = {"query": (40, 90, 220), MATCH: (30, 160, 60), WRONG: (210, 40, 40), IGNORED: (150, 150, 150)}
BORDER = 4
TEXT_LINES = 3
LINE = 11


def _thumb(path: str, height: int, width: int, colour: tuple[int, int, int]) -> Image.Image:
    img = read_image(path).resize((width, height), Image.Resampling.BILINEAR)
    framed = Image.new("RGB", (width + 2 * BORDER, height + 2 * BORDER), colour)
    framed.paste(img, (BORDER, BORDER))
    return framed


def _caption(sample: Any) -> str:
    text = f"id {sample.pid} cam {sample.camid}"
    return text + (f" cl {sample.clothes_id}" if sample.clothes_id is not None else "")


def render_png(ranked: Sequence[RankedQuery], query: Sequence[Any], gallery: Sequence[Any], *,
               height: int = 128, width: int = 64, title: str = "") -> Image.Image:
    """One row per query: the query, then its top-k gallery items with coloured borders and captions."""
    font = ImageFont.load_default()
    top = max((len(r.gallery) for r in ranked), default=0)
    cell_w, cell_h = width + 2 * BORDER + 8, height + 2 * BORDER + TEXT_LINES * LINE + 6
    header = 16 if title else 0
    legend = 16
    canvas = Image.new("RGB", (max((top + 1) * cell_w + 12, 520), header + legend + len(ranked) * cell_h), "white")
    draw = ImageDraw.Draw(canvas)
    if title:
        draw.text((4, 2), title, fill=(0, 0, 0), font=font)
    x = 4
    for name, label in (("query", "query"), (MATCH, "match"), (WRONG, "wrong identity"),
                        (IGNORED, "ignored by the protocol")):
        draw.rectangle((x, header + 3, x + 10, header + 13), fill=COLOURS[name])
        draw.text((x + 14, header + 2), label, fill=(0, 0, 0), font=font)
        x += 24 + int(draw.textlength(label, font=font))
    for row, entry in enumerate(ranked):
        y = header + legend + row * cell_h
        q = query[entry.query]
        canvas.paste(_thumb(q.path, height, width, COLOURS["query"]), (4, y))
        ap = "AP n/a" if entry.ap != entry.ap else f"AP {entry.ap:.1f}%"
        _text(draw, font, 4, y + height + 2 * BORDER + 2, [_caption(q), ap, f"query {entry.query}"])
        for i, (g, status, reason) in enumerate(zip(entry.gallery, entry.status, entry.reason)):
            x = 12 + (i + 1) * cell_w
            item = gallery[int(g)]
            canvas.paste(_thumb(item.path, height, width, COLOURS[status]), (x, y))
            lines = [f"#{i + 1} d={entry.distance[i]:.3f}", _caption(item), reason]
            _text(draw, font, x, y + height + 2 * BORDER + 2, lines)
    return canvas


def _text(draw: ImageDraw.ImageDraw, font: Any, x: int, y: int, lines: Sequence[str]) -> None:
    for k, line in enumerate(lines[:TEXT_LINES]):
        draw.text((x, y + k * LINE), line, fill=(0, 0, 0), font=font)


def _data_uri(path: str, height: int, width: int) -> str:
    buffer = io.BytesIO()
    read_image(path).resize((width, height), Image.Resampling.BILINEAR).save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def render_html(ranked: Sequence[RankedQuery], query: Sequence[Any], gallery: Sequence[Any], *,
                height: int = 128, width: int = 64, title: str = "") -> str:
    """The same content as :func:`render_png` as one HTML file (images embedded, paths in tooltips)."""
    css = {name: "rgb({},{},{})".format(*rgb) for name, rgb in COLOURS.items()}

    def cell(path: str, colour: str, lines: Sequence[str]) -> str:
        caption = "<br>".join(html.escape(line) for line in lines if line)
        return (f'<td><img src="{_data_uri(path, height, width)}" title="{html.escape(path)}" '
                f'style="border:{BORDER}px solid {colour}"><br><small>{caption}</small></td>')

    rows = []
    for entry in ranked:
        q = query[entry.query]
        ap = "AP n/a" if entry.ap != entry.ap else f"AP {entry.ap:.1f}%"
        cells = [cell(q.path, css["query"], [f"query {entry.query}", _caption(q), ap])]
        for i, (g, status, reason) in enumerate(zip(entry.gallery, entry.status, entry.reason)):
            item = gallery[int(g)]
            label = {MATCH: "match", WRONG: "wrong identity", IGNORED: f"ignored: {reason}"}[status]
            cells.append(cell(item.path, css[status], [f"#{i + 1} d={entry.distance[i]:.4f}", _caption(item), label]))
        rows.append("<tr>" + "".join(cells) + "</tr>")
    legend = " ".join(f'<span style="color:{css[k]}">&#9632; {v}</span>' for k, v in
                      (("query", "query"), (MATCH, "match"), (WRONG, "wrong identity"),
                       (IGNORED, "ignored by the protocol")))
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>"
        f"{html.escape(title or 'rankings')}</title><style>td{{text-align:center;vertical-align:top;"
        "font-family:sans-serif;padding:4px}</style></head><body>"
        f"<h3>{html.escape(title)}</h3><p>{legend}</p><table>{''.join(rows)}</table></body></html>\n"
    )
