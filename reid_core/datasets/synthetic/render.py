"""Drawing one synthetic person: pose and COCO keypoints, the part label map, then colour or infrared.

The pose is computed with scalar Python arithmetic; the pixels are painted as part labels into a
label map (``raster.Canvas``) and coloured through a per-image palette (visible) or a temperature
table (infrared). Background textures and noise come from per-camera banks built once per size.
"""

from __future__ import annotations

import math

import numpy as np

from reid_core.datasets.synthetic.raster import Canvas, box_blur
from reid_core.datasets.synthetic.style import (
    BAG,
    BOTTOM,
    HAIR,
    HAIR2,
    NUM_LABELS,
    OCC,
    SHOE,
    SKIN,
    TOP,
    TOP2,
    Camera,
    Identity,
    Outfit,
)

Keypoints = tuple[tuple[float, float, float], ...]

# COCO keypoint order.
NOSE, L_EYE, R_EYE, L_EAR, R_EAR, L_SH, R_SH, L_EL, R_EL, L_WR, R_WR, L_HIP, R_HIP, L_KN, R_KN, L_AN, R_AN = range(17)
FRONT, BACK, SIDE = 0, 1, 2
NUM_UNIFORMS = 28


def pose(ident: Identity, cam: Camera, u: list[float], h: int, w: int) -> tuple[dict, list[list[float]]]:
    """Body geometry (pixels) and the 17 keypoints [x, y, v] for one image."""
    cum = cam.views.cumsum()
    view = FRONT if u[0] < cum[0] else BACK if u[0] < cum[1] else SIDE
    facing = 1.0 if u[1] < 0.5 else -1.0
    phase = u[2] * 2 * math.pi
    body = h * cam.scale * (0.8 + 0.2 * ident.height) * (1 + 0.06 * (u[3] - 0.5))
    cx = w * 0.5 + w * 0.08 * (u[4] - 0.5)
    top = (h - body) * 0.5 + h * 0.04 * (u[5] - 0.5)
    lean = body * 0.02 * (u[20] - 0.5)

    hr = ident.head * body
    head_x, head_y = cx + lean, top + hr
    sh_y = top + 2.0 * hr + 0.035 * body
    hip_y = top + ident.hip * body
    an_y = top + 0.955 * body
    leg = an_y - hip_y
    upper, fore = 0.165 * body, 0.155 * body
    b = ident.build
    g = {"view": view, "facing": facing, "body": body, "cx": cx, "top": top, "hr": hr,
         "head": (head_x, head_y), "sh_y": sh_y, "hip_y": hip_y, "lean": lean}
    kp = [[0.0, 0.0, 2.0] for _ in range(17)]
    swing = ident.stride * math.sin(phase)
    if view != SIDE:
        sgn = 1.0 if view == FRONT else -1.0  # the person's left is on the image right when facing us
        sw, hw = 0.115 * body * b, 0.08 * body * b
        g.update(sw=sw, hw=hw)
        kp[L_SH][:2] = [cx + lean + sgn * sw * 0.85, sh_y]
        kp[R_SH][:2] = [cx + lean - sgn * sw * 0.85, sh_y]
        kp[L_HIP][:2] = [cx + sgn * hw * 0.7, hip_y]
        kp[R_HIP][:2] = [cx - sgn * hw * 0.7, hip_y]
        stance = body * 0.03 * (u[19] - 0.3)
        for hip, kn, an, side, lift in ((L_HIP, L_KN, L_AN, sgn, max(0.0, swing)),
                                        (R_HIP, R_KN, R_AN, -sgn, max(0.0, -swing))):
            hx = kp[hip][0]
            ay = an_y - leg * 0.25 * lift
            kp[an][:2] = [hx + side * stance, ay]
            kp[kn][:2] = [hx + side * stance * 0.5, (hip_y + ay) * 0.5]
        for shk, elk, wrk, side, jit in ((L_SH, L_EL, L_WR, sgn, u[17]), (R_SH, R_EL, R_WR, -sgn, u[18])):
            a = ident.arm_out + 0.12 * (jit - 0.5)
            sx, sy = kp[shk][:2]
            ex, ey = sx + side * upper * math.sin(a), sy + upper * math.cos(a)
            a2 = a - 0.1 + 0.2 * jit
            kp[elk][:2] = [ex, ey]
            kp[wrk][:2] = [ex + side * fore * math.sin(a2), ey + fore * math.cos(a2)]
        if u[16] < 0.12:  # one forearm raised across the chest (phone, cup)
            ex, ey = kp[R_EL][:2]
            kp[R_WR][:2] = [cx + lean + sgn * sw * 0.2, ey - fore * 0.6]
        face_v = 2.0 if view == FRONT else 1.0
        kp[NOSE] = [head_x, head_y + 0.15 * hr, face_v]
        kp[L_EYE] = [head_x + sgn * 0.38 * hr, head_y - 0.1 * hr, face_v]
        kp[R_EYE] = [head_x - sgn * 0.38 * hr, head_y - 0.1 * hr, face_v]
        kp[L_EAR] = [head_x + sgn * 0.95 * hr, head_y, 2.0]
        kp[R_EAR] = [head_x - sgn * 0.95 * hr, head_y, 2.0]
    else:
        d = facing
        sw, hw = 0.07 * body * b, 0.07 * body * b
        g.update(sw=sw, hw=hw)
        near_left = d > 0
        depth = body * 0.012
        for shk, hipk, near in ((L_SH, L_HIP, near_left), (R_SH, R_HIP, not near_left)):
            off = depth if near else -depth
            kp[shk][:2] = [cx + lean + off * d * 0.2, sh_y + (0 if near else 0.4)]
            kp[hipk][:2] = [cx + off * d * 0.2, hip_y]
        for hipk, kn, an, s in ((L_HIP, L_KN, L_AN, 1.0), (R_HIP, R_KN, R_AN, -1.0)):
            th = s * swing
            hx, hy = kp[hipk][:2]
            kx, ky = hx + d * leg * 0.5 * math.sin(th), hy + leg * 0.5 * math.cos(th)
            thk = th - max(0.0, -th) * 1.2 - 0.05
            kp[kn][:2] = [kx, ky]
            kp[an][:2] = [kx + d * leg * 0.5 * math.sin(thk), ky + leg * 0.5 * math.cos(thk)]
        for shk, elk, wrk, s in ((L_SH, L_EL, L_WR, -1.0), (R_SH, R_EL, R_WR, 1.0)):
            a = s * swing * 0.8
            sx, sy = kp[shk][:2]
            ex, ey = sx + d * upper * math.sin(a), sy + upper * math.cos(a)
            a2 = a + 0.3
            kp[elk][:2] = [ex, ey]
            kp[wrk][:2] = [ex + d * fore * math.sin(a2), ey + fore * math.cos(a2)]
        kp[NOSE] = [head_x + d * 0.95 * hr, head_y + 0.15 * hr, 2.0]
        near_eye, far_eye = (L_EYE, R_EYE) if near_left else (R_EYE, L_EYE)
        near_ear, far_ear = (L_EAR, R_EAR) if near_left else (R_EAR, L_EAR)
        kp[near_eye] = [head_x + d * 0.6 * hr, head_y - 0.1 * hr, 2.0]
        kp[far_eye] = [head_x + d * 0.7 * hr, head_y - 0.1 * hr, 1.0]
        kp[near_ear] = [head_x - d * 0.1 * hr, head_y, 2.0]
        kp[far_ear] = [head_x - d * 0.1 * hr, head_y, 1.0]
        g["near_left"] = near_left
    return g, kp


def _draw_leg(c: Canvas, kp: list, hip: int, kn: int, an: int, outfit: Outfit, r: float, g: dict) -> None:
    hx, hy = kp[hip][:2]
    kx, ky = kp[kn][:2]
    ax, ay = kp[an][:2]
    body = g["body"]
    if outfit.bottom_type == 0:
        c.capsule(hx, hy, kx, ky, r * 1.1, BOTTOM)
        c.capsule(kx, ky, ax, ay, r, BOTTOM)
    else:
        c.capsule(hx, hy, kx, ky, r * 0.85, SKIN)
        c.capsule(kx, ky, ax, ay, r * 0.8, SKIN)
        if outfit.bottom_type == 1:  # shorts: upper 70 % of the thigh
            c.capsule(hx, hy, hx + (kx - hx) * 0.7, hy + (ky - hy) * 0.7, r * 1.15, BOTTOM)
    fx = ax + (g["facing"] * body * 0.045 if g["view"] == SIDE else 0.0)
    c.capsule(ax, ay + r * 0.1, fx, ay + r * 0.6, r * 1.25, SHOE)


def _draw_arm(c: Canvas, kp: list, sh: int, el: int, wr: int, outfit: Outfit, r: float) -> None:
    sx, sy = kp[sh][:2]
    ex, ey = kp[el][:2]
    wx, wy = kp[wr][:2]
    c.capsule(sx, sy, ex, ey, r * 1.1, TOP)
    c.capsule(ex, ey, wx, wy, r, TOP if outfit.long_sleeves else SKIN)
    c.capsule(wx, wy, wx, wy + r * 0.6, r * 1.05, SKIN)


def draw_person(c: Canvas, ident: Identity, outfit: Outfit, g: dict, kp: list) -> None:
    """Paint one person's part labels (painter's order depends on the viewpoint)."""
    view, body, cx, hr = g["view"], g["body"], g["cx"], g["hr"]
    hx, hy = g["head"]
    sh_y, hip_y, sw, hw, lean = g["sh_y"], g["hip_y"], g["sw"], g["hw"], g["lean"]
    b = ident.build
    arm_r, leg_r = 0.032 * body * b, 0.045 * body * b
    long_hair = ident.hair_length
    hair_drop = (0.0, 1.2 * hr, 3.0 * hr)[long_hair]
    vol = ident.hair_volume

    if view == SIDE:
        d = g["facing"]
        near = (L_SH, L_EL, L_WR, L_HIP, L_KN, L_AN) if g["near_left"] else (R_SH, R_EL, R_WR, R_HIP, R_KN, R_AN)
        far = (R_SH, R_EL, R_WR, R_HIP, R_KN, R_AN) if g["near_left"] else (L_SH, L_EL, L_WR, L_HIP, L_KN, L_AN)
        _draw_arm(c, kp, far[0], far[1], far[2], outfit, arm_r * 0.9)
        _draw_leg(c, kp, far[3], far[4], far[5], outfit, leg_r * 0.95, g)
        if outfit.bag == 1:  # backpack behind the back
            xa, xb = cx + lean - d * sw * 0.5, cx + lean - d * (sw + 0.09 * body)
            c.rect(min(xa, xb), sh_y + 0.02 * body, max(xa, xb), sh_y + 0.26 * body, BAG)
        if long_hair:  # hair falls down the back of the head
            xa, xb = hx - d * 1.05 * hr, hx - d * 0.1 * hr
            c.trapezoid(hy, hy + hair_drop, min(xa, xb), max(xa, xb), min(xa, xb) - 0.1 * hr,
                        max(xa, xb) - 0.1 * hr * d, HAIR2)
        _draw_torso(c, outfit, cx, lean, sh_y, hip_y, sw, hw, body)
        _draw_leg(c, kp, near[3], near[4], near[5], outfit, leg_r, g)
        if outfit.bottom_type == 2:
            _skirt(c, cx, hip_y, hw, kp, body)
        c.capsule(hx, hy, cx + lean, sh_y, hr * 0.45, SKIN)  # neck
        c.ellipse(hx, hy, hr, hr * 1.08, SKIN)
        c.ellipse(hx - d * 0.15 * hr, hy - 0.1 * hr * vol, hr * 1.02 * vol, hr * 1.02 * vol, HAIR,
                  y_max=hy - 0.25 * hr)
        c.ellipse(hx - d * 0.45 * hr, hy, hr * 0.6 * vol, hr * 0.9 * vol, HAIR)
        _draw_arm(c, kp, near[0], near[1], near[2], outfit, arm_r)
        if outfit.bag == 2:
            _shoulder_bag(c, cx + lean, hip_y, 0.0, body, kp, near[0], d)
        return

    front = view == FRONT
    if long_hair and front:  # long hair falls behind the shoulders
        c.trapezoid(hy, hy + hair_drop, hx - 1.05 * hr * vol, hx + 1.05 * hr * vol, hx - 1.2 * hr * vol,
                    hx + 1.2 * hr * vol, HAIR2)
    for hip, kn, an in ((L_HIP, L_KN, L_AN), (R_HIP, R_KN, R_AN)):
        _draw_leg(c, kp, hip, kn, an, outfit, leg_r, g)
    if outfit.bottom_type == 2:
        _skirt(c, cx, hip_y, hw, kp, body)
    _draw_torso(c, outfit, cx, lean, sh_y, hip_y, sw, hw, body)
    c.capsule(hx, hy, cx + lean, sh_y, hr * 0.5, SKIN)  # neck
    if outfit.bag == 1:
        if front:  # straps only
            for s in (-1.0, 1.0):
                c.capsule(cx + lean + s * sw * 0.55, sh_y, cx + lean + s * sw * 0.6, sh_y + 0.2 * body,
                          max(0.6, 0.012 * body), BAG)
        else:
            c.rect(cx + lean - sw * 0.75, sh_y + 0.02 * body, cx + lean + sw * 0.75, sh_y + 0.27 * body, BAG)
    for sh, el, wr in ((L_SH, L_EL, L_WR), (R_SH, R_EL, R_WR)):
        _draw_arm(c, kp, sh, el, wr, outfit, arm_r)
    if front:
        c.ellipse(hx, hy, hr, hr * 1.1, SKIN)
        c.ellipse(hx, hy - 0.12 * hr * vol, hr * 1.06 * vol, hr * 1.02 * vol, HAIR,
                  y_max=hy - (0.3 - 0.25 * (long_hair > 0)) * hr)
    else:
        c.ellipse(hx, hy, hr, hr * 1.1, SKIN)
        c.ellipse(hx, hy - 0.05 * hr * vol, hr * 1.05 * vol, hr * 1.08 * vol, HAIR,
                  y_max=hy + (0.55 + 0.3 * (long_hair > 0)) * hr)
        if long_hair:
            c.trapezoid(hy, hy + hair_drop, hx - 1.05 * hr * vol, hx + 1.05 * hr * vol, hx - 1.15 * hr * vol,
                        hx + 1.15 * hr * vol, HAIR2)
    if outfit.bag == 2:
        _shoulder_bag(c, cx + lean, hip_y, hw, body, kp, L_SH if front else R_SH, 1.0 if front else -1.0)


def _draw_torso(c: Canvas, outfit: Outfit, cx: float, lean: float, sh_y: float, hip_y: float,
                sw: float, hw: float, body: float) -> None:
    c.trapezoid(sh_y - 0.015 * body, hip_y + 0.02 * body, cx + lean - sw, cx + lean + sw, cx - hw * 1.05,
                cx + hw * 1.05, TOP)
    c.ellipse(cx + lean - sw * 0.8, sh_y + 0.01 * body, sw * 0.3, 0.035 * body, TOP)
    c.ellipse(cx + lean + sw * 0.8, sh_y + 0.01 * body, sw * 0.3, 0.035 * body, TOP)
    c.trapezoid(hip_y - 0.03 * body, hip_y + 0.05 * body, cx - hw * 1.05, cx + hw * 1.05, cx - hw * 1.1,
                cx + hw * 1.1, BOTTOM)


def _skirt(c: Canvas, cx: float, hip_y: float, hw: float, kp: list, body: float) -> None:
    knee_y = 0.5 * (kp[L_KN][1] + kp[R_KN][1])
    c.trapezoid(hip_y - 0.02 * body, knee_y + 0.02 * body, cx - hw * 1.1, cx + hw * 1.1, cx - hw * 1.7,
                cx + hw * 1.7, BOTTOM)


def _shoulder_bag(c: Canvas, cx: float, hip_y: float, hw: float, body: float, kp: list, strap_sh: int,
                  side: float) -> None:
    bx = cx - side * (hw + 0.05 * body)
    sx, sy = kp[strap_sh][:2]
    c.capsule(sx, sy, bx, hip_y - 0.04 * body, max(0.6, 0.01 * body), BAG)
    c.rect(bx - 0.055 * body, hip_y - 0.05 * body, bx + 0.055 * body, hip_y + 0.07 * body, BAG)


def paint_occluder(c: Canvas, cam: Camera, u: list[float]) -> bool:
    """Draw an occluder now and then (a low wall, a pole, a passer-by's shape); True if drawn."""
    if u[12] >= cam.occluder:
        return False
    h, w = c.h, c.w
    kind = int(u[13] * 3)
    if kind == 0:  # low obstacle over the legs
        y0 = h * (0.62 + 0.2 * u[14])
        c.rect(0, y0, w, h, OCC)
    elif kind == 1:  # pole
        x0 = w * (0.1 + 0.7 * u[14])
        c.rect(x0, 0, x0 + w * (0.08 + 0.1 * u[15]), h, OCC)
    else:  # a blob entering from a side
        side = 0.0 if u[14] < 0.5 else float(w)
        c.ellipse(side, h * (0.4 + 0.4 * u[15]), w * 0.35, h * 0.3, OCC)
    return True


def finish_keypoints(c: Canvas, kp: list, occluded: bool) -> Keypoints:
    """Visibility: 0 outside the image, 1 hidden (occluder, far side, back of the head), 2 visible."""
    out = []
    for x, y, v in kp:
        lab = c.label_at(x, y)
        if lab < 0:
            v = 0.0
        elif occluded and lab == OCC:
            v = 1.0
        out.append((round(float(x), 2), round(float(y), 2), float(v)))
    return tuple(out)


def colour_palette(ident: Identity, outfit: Outfit, cam: Camera) -> np.ndarray:
    """The RGB colour of each part label for one image (visible modality)."""
    pal = np.zeros((NUM_LABELS, 3), dtype=np.float32)
    pal[SKIN] = ident.skin
    pal[HAIR] = ident.hair
    pal[HAIR2] = ident.hair_tip
    pal[TOP] = outfit.top
    pal[TOP2] = outfit.top2
    pal[BOTTOM] = outfit.bottom
    pal[SHOE] = ident.shoe
    pal[BAG] = outfit.bag_colour
    pal[OCC] = cam.occ_colour
    return pal


def temperature_table(ident: Identity, outfit: Outfit, cam: Camera) -> np.ndarray:
    """The infrared level (0..255) of each part label: skin warm, hair dark, clothes by fabric."""
    t = np.zeros(NUM_LABELS, dtype=np.float32)
    t[SKIN] = ident.skin_temp
    t[HAIR] = 0.12
    t[HAIR2] = 0.12
    t[TOP] = outfit.top_temp
    t[TOP2] = outfit.top_temp
    t[BOTTOM] = outfit.bottom_temp
    t[SHOE] = 0.2
    t[BAG] = 0.22
    t[OCC] = cam.bg_temp * 0.8
    return t * np.float32(255.0)


def apply_pattern(c: Canvas, outfit: Outfit, g: dict) -> None:
    """Turn part of the top into the second colour: horizontal stripes or checks."""
    if outfit.pattern == 0:
        return
    period = max(2.0, outfit.period * g["body"])
    top_y = g["sh_y"]
    rows = np.floor((c.ys - np.float32(top_y)) / np.float32(period)).astype(np.int32) & 1
    if outfit.pattern == 1:
        m = rows.astype(bool) & (c.lab == TOP)
    else:
        cols = np.floor((c.xs - np.float32(g["cx"])) / np.float32(period)).astype(np.int32) & 1
        m = (rows ^ cols).astype(bool) & (c.lab == TOP)
    c.lab[m] = TOP2


def shade(img: np.ndarray, light: np.ndarray, grad: float, blur: int, noise: np.ndarray, sigma: float) -> np.ndarray:
    """Lighting (gain, cast, vertical gradient), blur and sensor noise, then 8-bit quantisation."""
    h = img.shape[0]
    vg = np.float32(1.0) + np.float32(grad) * (np.float32(0.5) - (np.arange(h, dtype=np.float32) / np.float32(h)))
    if img.ndim == 3:
        img *= vg[:, None, None] * light[None, None, :]
    else:
        img *= vg[:, None] * light
    if blur:
        img = box_blur(img, blur)
    img += noise * np.float32(sigma)
    np.clip(img, 0, 255, out=img)
    img += np.float32(0.5)
    return img.astype(np.uint8)
