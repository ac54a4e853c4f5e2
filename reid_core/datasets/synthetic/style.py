"""Domain styles and the per-person, per-outfit and per-camera parameters of the synthetic world.

Every parameter set is drawn from its own numpy Generator seeded by a stable tuple of integers
(never Python's ``hash()``), so that a parameter does not depend on the order in which things are
asked for, and the same world gives the same persons on any machine.
"""

from __future__ import annotations

import zlib

import attrs
import numpy as np

# Label values of the part map (see render.py): index into a per-image palette.
BG, SKIN, HAIR, TOP, TOP2, BOTTOM, SHOE, BAG, OCC, HAIR2 = range(10)
NUM_LABELS = 10

SKIN_LIGHT = np.array([236.0, 198.0, 170.0])
SKIN_DARK = np.array([92.0, 58.0, 40.0])
#: Natural and dyed hair colours: a wide spread so that hair is a strong identity cue.
HAIR_COLOURS = np.array(
    [[22, 18, 16], [62, 40, 26], [112, 74, 42], [214, 180, 100], [170, 64, 24], [190, 188, 182],
     [240, 236, 226], [40, 70, 200], [220, 60, 150], [40, 170, 80], [150, 60, 200], [230, 140, 30]], dtype=float
)
HAIR_WEIGHTS = np.array([0.16, 0.12, 0.10, 0.09, 0.07, 0.07, 0.05, 0.07, 0.07, 0.06, 0.07, 0.07])
SHOE_COLOURS = np.array(
    [[20, 20, 22], [235, 235, 232], [105, 66, 38], [128, 128, 132], [190, 36, 40], [40, 70, 160],
     [240, 210, 30], [30, 170, 70], [240, 120, 200]], dtype=float
)
#: Relative "temperature" of fabrics in infrared (cotton, wool, denim, synthetic, leather).
FABRIC_TEMPS = np.array([0.50, 0.38, 0.44, 0.62, 0.30])


@attrs.frozen
class DomainStyle:
    """The look of one domain: clothes palette, backgrounds, lighting, camera set."""

    name: str
    code: int
    clothes: np.ndarray = attrs.field(eq=False)  # (n, 3) palette of clothes colours
    floors: np.ndarray = attrs.field(eq=False)  # (n, 3) floor colours
    walls: np.ndarray = attrs.field(eq=False)  # (n, 3) wall colours
    gain: tuple[float, float]  # illumination gain range
    cast: float  # strength of the per-camera colour cast
    scale: tuple[float, float]  # person height / image height range per camera
    blur: tuple[float, float, float]  # probabilities of blur level 0, 1, 2 per camera
    noise: tuple[float, float]  # sensor noise sigma range (0..255)
    occluder: tuple[float, float]  # occluder probability range per camera
    cameras: int  # default number of cameras


def _pal(rows: list[tuple[int, int, int]]) -> np.ndarray:
    return np.array(rows, dtype=float)


DOMAINS: dict[str, DomainStyle] = {
    # "a": bright outdoor campus (Market-like): saturated clothes, grey pavements, even light.
    "a": DomainStyle(
        name="a",
        code=1,
        clothes=_pal(
            [(200, 30, 36), (30, 60, 170), (30, 140, 60), (230, 200, 40), (240, 240, 238), (25, 25, 28),
             (128, 128, 132), (20, 30, 80), (230, 120, 170), (240, 130, 30), (120, 40, 140), (60, 170, 200)]
        ),
        floors=_pal([(120, 120, 118), (140, 136, 128), (96, 104, 96), (150, 150, 150)]),
        walls=_pal([(90, 130, 90), (170, 170, 165), (150, 120, 100), (110, 140, 170)]),
        gain=(0.85, 1.15),
        cast=0.06,
        scale=(0.86, 0.96),
        blur=(0.6, 0.4, 0.0),
        noise=(2.0, 5.0),
        occluder=(0.03, 0.12),
        cameras=6,
    ),
    # "b": dimmer winter campus (Duke-like): a muted palette that shares some colours with "a", warm
    # walls, stronger colour casts, more blur, noise and occluders, eight cameras.
    "b": DomainStyle(
        name="b",
        code=2,
        clothes=_pal(
            [(40, 40, 44), (70, 60, 50), (60, 70, 45), (30, 40, 70), (150, 35, 40), (180, 165, 135),
             (110, 110, 115), (140, 110, 80), (30, 60, 140), (70, 90, 110), (220, 220, 215), (200, 170, 50)]
        ),
        floors=_pal([(90, 80, 70), (70, 70, 75), (110, 100, 85), (60, 58, 55)]),
        walls=_pal([(140, 110, 90), (100, 90, 80), (160, 150, 140), (80, 90, 100)]),
        gain=(0.7, 1.0),
        cast=0.1,
        scale=(0.8, 0.94),
        blur=(0.3, 0.5, 0.2),
        noise=(3.0, 7.0),
        occluder=(0.05, 0.2),
        cameras=8,
    ),
}


def domain_style(name: str) -> DomainStyle:
    """The style of domain ``name`` (``a`` or ``b``); raise ValueError naming the choices."""
    try:
        return DOMAINS[name]
    except KeyError:
        raise ValueError(f"unknown synthetic domain {name!r}; choose one of {', '.join(DOMAINS)}") from None


def stable_code(text: str) -> int:
    """A machine-independent integer for a string (crc32), usable in a seed tuple."""
    return zlib.crc32(text.encode("utf-8"))


def rng_for(*key: int) -> np.random.Generator:
    """A Generator seeded by a tuple of non-negative integers (stable across machines)."""
    return np.random.default_rng([int(k) & 0xFFFFFFFF for k in key])


@attrs.frozen
class Identity:
    """Fixed body of one person: what identity lives in."""

    height: float  # 0..1, person height factor
    build: float  # width multiplier
    head: float  # head radius as a fraction of body height
    hip: float  # hip height (fraction of body height from the top)
    skin: np.ndarray = attrs.field(eq=False)
    hair: np.ndarray = attrs.field(eq=False)
    hair_length: int  # 0 short, 1 medium, 2 long
    hair_volume: float  # hair ellipse scale (1.2 flat .. 1.7 big)
    hair_tip: np.ndarray = attrs.field(eq=False)  # colour of the lower hair (dyed tips for 60 %; else = hair)
    shoe: np.ndarray = attrs.field(eq=False)
    skin_temp: float
    stride: float  # gait swing amplitude (radians)
    arm_out: float  # arm carriage angle (radians)


@attrs.frozen
class Outfit:
    """One set of clothes (``clothes_id``)."""

    top: np.ndarray = attrs.field(eq=False)
    top2: np.ndarray = attrs.field(eq=False)
    pattern: int  # 0 plain, 1 stripes, 2 checks
    period: float  # pattern period, fraction of body height
    long_sleeves: bool
    bottom_type: int  # 0 trousers, 1 shorts, 2 skirt
    bottom: np.ndarray = attrs.field(eq=False)
    bag: int  # 0 none, 1 backpack, 2 shoulder bag
    bag_colour: np.ndarray = attrs.field(eq=False)
    top_temp: float
    bottom_temp: float


@attrs.frozen
class Camera:
    """One camera of a domain: background, lighting, viewpoint habits, scale, blur, occluders."""

    floor: np.ndarray = attrs.field(eq=False)
    wall: np.ndarray = attrs.field(eq=False)
    horizon: float
    texture: int  # 0 tiles, 1 windows, 2 blobs
    period: float
    light: np.ndarray = attrs.field(eq=False)  # per-channel gain (mean gain * colour cast)
    gain_jitter: float
    views: np.ndarray = attrs.field(eq=False)  # probabilities of front, back, side
    scale: float
    blur: int
    noise: float
    occluder: float
    occ_colour: np.ndarray = attrs.field(eq=False)
    bg_temp: float  # infrared background level


def _jitter(rng: np.random.Generator, colour: np.ndarray, amount: float) -> np.ndarray:
    return np.clip(colour + rng.uniform(-amount, amount, 3), 0, 255)


def make_identity(rng: np.random.Generator) -> Identity:
    """Draw a person's body."""
    t = rng.random()
    skin = SKIN_LIGHT * (1 - t) + SKIN_DARK * t + rng.uniform(-18, 18) * np.array([1.0, 0.3, -0.6])
    hair = HAIR_COLOURS[rng.choice(len(HAIR_COLOURS), p=HAIR_WEIGHTS)]
    tip_i = int(rng.integers(len(HAIR_COLOURS)))
    tip = _jitter(rng, HAIR_COLOURS[tip_i], 20) if rng.random() < 0.6 else None
    return Identity(
        height=float(rng.random()),
        build=float(rng.uniform(0.66, 1.46)),
        head=float(rng.uniform(0.06, 0.095)),
        hip=float(rng.uniform(0.47, 0.58)),
        skin=_jitter(rng, skin, 10),
        hair=(hair := _jitter(rng, hair, 28)),
        hair_length=int(rng.choice(3, p=[0.3, 0.35, 0.35])),
        hair_volume=float(rng.uniform(1.2, 1.7)),
        hair_tip=hair if tip is None else tip,
        shoe=_jitter(rng, SHOE_COLOURS[rng.integers(len(SHOE_COLOURS))], 22),
        skin_temp=float(rng.uniform(0.78, 0.97)),
        stride=float(rng.uniform(0.10, 0.45)),
        arm_out=float(rng.uniform(0.03, 0.22)),
    )


def make_outfit(rng: np.random.Generator, style: DomainStyle) -> Outfit:
    """Draw one outfit from the domain's palette (so different people's outfits may look alike)."""
    pal = style.clothes
    n = len(pal)
    top_i = int(rng.integers(n))
    return Outfit(
        top=_jitter(rng, pal[top_i], 8),
        top2=_jitter(rng, pal[(top_i + int(rng.integers(1, n))) % n], 8),
        pattern=int(rng.choice(3, p=[0.55, 0.25, 0.20])),
        period=float(rng.uniform(0.028, 0.05)),
        long_sleeves=bool(rng.random() < 0.55),
        bottom_type=int(rng.choice(3, p=[0.6, 0.18, 0.22])),
        bottom=_jitter(rng, pal[int(rng.integers(n))], 8),
        bag=int(rng.choice(3, p=[0.55, 0.25, 0.20])),
        bag_colour=_jitter(rng, pal[int(rng.integers(n))] * 0.8, 8),
        top_temp=float(FABRIC_TEMPS[rng.integers(len(FABRIC_TEMPS))] + rng.uniform(-0.03, 0.03)),
        bottom_temp=float(FABRIC_TEMPS[rng.integers(len(FABRIC_TEMPS))] + rng.uniform(-0.03, 0.03)),
    )


def make_camera(rng: np.random.Generator, style: DomainStyle) -> Camera:
    """Draw one camera of a domain."""
    cast = 1.0 + rng.uniform(-style.cast, style.cast, 3)
    gain = rng.uniform(*style.gain)
    views = rng.dirichlet([1.0, 1.0, 1.0]) * 0.6 + 0.4 / 3
    return Camera(
        floor=_jitter(rng, style.floors[rng.integers(len(style.floors))], 15),
        wall=_jitter(rng, style.walls[rng.integers(len(style.walls))], 20),
        horizon=float(rng.uniform(0.35, 0.75)),
        texture=int(rng.integers(3)),
        period=float(rng.uniform(0.08, 0.25)),
        light=(gain * cast).astype(np.float32),
        gain_jitter=float(rng.uniform(0.03, 0.1)),
        views=views,
        scale=float(rng.uniform(*style.scale)),
        blur=int(rng.choice(3, p=style.blur)),
        noise=float(rng.uniform(*style.noise)),
        occluder=float(rng.uniform(*style.occluder)),
        occ_colour=_jitter(rng, style.walls[rng.integers(len(style.walls))] * 0.7, 25),
        bg_temp=float(rng.uniform(0.15, 0.35)),
    )
