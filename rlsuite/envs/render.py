"""Drawing with numpy, showing with pygame.

Every game draws its frames as uint8 arrays (batched: ``(B, H, W, 3)``) from small sprite tiles, so
pixel observations cost numpy time only. pygame is imported lazily, only when a window is opened
(``render_mode="human"``, ``rlsuite watch``, ``rlsuite play``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

# A small palette shared by the games, so they look like one suite.
PALETTE: dict[str, tuple[int, int, int]] = {
    "background": (20, 20, 28),
    "floor": (40, 40, 52),
    "wall": (110, 110, 125),
    "agent": (240, 70, 70),
    "key": (250, 210, 50),
    "door_locked": (200, 140, 30),
    "door_open": (90, 60, 20),
    "goal": (60, 200, 90),
    "alien": (150, 230, 90),
    "bullet": (250, 250, 250),
    "bomb": (255, 120, 60),
    "food": (90, 200, 90),
    "medkit": (240, 240, 240),
    "hazard": (190, 50, 200),
    "road": (60, 60, 66),
    "own_lane": (95, 95, 105),
    "lane": (200, 200, 200),
    "car": (70, 130, 240),
    "grass": (30, 90, 40),
}


def color(name: str) -> np.ndarray:
    """The palette colour `name` as a uint8 RGB array."""
    return np.array(PALETTE[name], dtype=np.uint8)


def solid_tile(rgb: tuple[int, int, int] | np.ndarray, size: int) -> np.ndarray:
    """A (size, size, 3) uint8 tile of one colour."""
    return np.broadcast_to(np.asarray(rgb, dtype=np.uint8), (size, size, 3)).copy()


def disc_tile(rgb, size: int, background=PALETTE["floor"], radius: float = 0.4) -> np.ndarray:
    """A (size, size, 3) tile with a filled disc of `rgb` on `background`."""
    yy, xx = np.mgrid[0:size, 0:size] + 0.5
    inside = (yy - size / 2) ** 2 + (xx - size / 2) ** 2 <= (radius * size) ** 2
    tile = solid_tile(background, size)
    tile[inside] = np.asarray(rgb, dtype=np.uint8)
    return tile


def border_tile(rgb, size: int, background=PALETTE["floor"], width: int = 1) -> np.ndarray:
    """A (size, size, 3) tile of `rgb` framed by `background` (reads as a block on a grid)."""
    tile = solid_tile(background, size)
    tile[width : size - width, width : size - width] = np.asarray(rgb, dtype=np.uint8)
    return tile


def tile_grid(cells: np.ndarray, tiles: np.ndarray) -> np.ndarray:
    """Draw a batch of grids of cell ids with one tile per id.

    cells: (B, H, W) integer ids; tiles: (n_ids, t, t, 3) uint8. Returns (B, H*t, W*t, 3) uint8.
    One gather of whole tile rows, already in frame order: the whole batch is drawn without a
    Python loop and without a transpose copy (about 3x faster than gathering whole tiles).
    """
    B, H, W = cells.shape
    t = tiles.shape[1]
    rows = tiles.reshape(-1, t * 3)  # (n_ids * t, t*3): row r of tile k is rows[k*t + r]
    index = cells[:, :, None, :] * t + np.arange(t)[None, None, :, None]  # (B, H, t, W)
    return np.take(rows, index, axis=0).reshape(B, H * t, W * t, 3)


def upscale(frame: np.ndarray, factor: int) -> np.ndarray:
    """Nearest-neighbour upscaling of an (H, W, 3) frame by an integer factor."""
    if factor == 1:
        return frame
    return frame.repeat(factor, axis=0).repeat(factor, axis=1)


def write_video(path: str | Path, frames: list[np.ndarray], fps: float) -> Path:
    """Write frames to a .gif or .mp4 file (no display needed)."""
    import imageio.v2 as imageio

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".gif", ".mp4"):
        raise ValueError(f"cannot record to {path.name!r}: use a .gif or .mp4 file name")
    if not frames:
        raise ValueError("nothing to record: no frames were produced")
    path.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".gif":
        # GIF frame durations are in milliseconds; loop=0 plays forever.
        imageio.mimsave(path, frames, duration=1000.0 / fps, loop=0)
    else:
        # H.264 wants even sides; macro_block_size=1 keeps our exact frame size.
        imageio.mimsave(path, frames, fps=fps, macro_block_size=1)
    return path


def _import_pygame():
    try:
        import pygame
    except ImportError as exc:  # pragma: no cover - pygame-ce is a dependency
        raise ImportError(
            "showing a window needs pygame: pip install pygame-ce (or use render_mode='rgb_array')"
        ) from exc
    return pygame


HUD_LINE_HEIGHT = 26  # pixels per heads-up text line under the picture
_fonts: dict[int, object] = {}


def _font(pg):
    """The heads-up font, made once per start of pygame's font module."""
    if not pg.font.get_init():  # first use, or someone (CartPole's close) called pygame.quit()
        pg.font.init()
        _fonts.clear()
    if 22 not in _fonts:
        _fonts[22] = pg.font.Font(None, 22)
    return _fonts[22]


def _render_text(pg, line: str):
    """`line` drawn light on black as a pygame Surface."""
    try:
        return _font(pg).render(line, True, (235, 235, 235), (0, 0, 0))
    except pg.error:  # the font module was quit and started again since the font was made
        _fonts.clear()  # (pygame.quit() then pygame.init(), as gymnasium 1.2's CartPole does)
        return _font(pg).render(line, True, (235, 235, 235), (0, 0, 0))


def display_scale(frame_shape: tuple[int, ...], min_size: int = 512) -> int:
    """The integer upscaling that makes a frame at least about `min_size` pixels across."""
    return max(1, min_size // max(frame_shape[:2]))


def with_hud(frame: np.ndarray, text: str, scale: int = 1) -> np.ndarray:
    """The frame scaled up, with `text` (lines split on newlines) written in a bar beneath it.

    This is exactly what a window shows, so ``rlsuite watch --record`` files look like the window.
    pygame's font module draws the text; it needs no display.
    """
    pg = _import_pygame()
    big = upscale(np.ascontiguousarray(frame), scale)
    lines = text.split("\n")
    height, width = big.shape[0], big.shape[1]
    out = np.zeros((height + HUD_LINE_HEIGHT * len(lines), width, 3), dtype=np.uint8)
    out[:height] = big
    for i, line in enumerate(lines):
        if not line:
            continue
        # pygame arrays are indexed (x, y): swap to numpy's (y, x).
        label = pg.surfarray.array3d(_render_text(pg, line))
        label = label.swapaxes(0, 1)[: HUD_LINE_HEIGHT - 5, : width - 6]
        top = height + 5 + i * HUD_LINE_HEIGHT
        out[top : top + label.shape[0], 6 : 6 + label.shape[1]] = label
    return out


class NoDisplayError(RuntimeError):
    """No window can be opened here; ``reason`` says why, the message also what to do instead."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            f"{reason}; draw frames with render_mode='rgb_array' instead, or set "
            "SDL_VIDEODRIVER=dummy to run without showing anything"
        )


NO_DISPLAY = "no display to open a window on (DISPLAY and WAYLAND_DISPLAY are not set)"


def check_display() -> None:
    """Raise NoDisplayError when a window could not be seen: on Linux and the BSDs with neither
    ``DISPLAY`` nor ``WAYLAND_DISPLAY`` set and no ``SDL_VIDEODRIVER`` chosen.

    SDL would otherwise fall back to its offscreen driver without a word, and a program waiting
    for the user (``rlsuite play``) would wait forever. A driver chosen on purpose
    (``SDL_VIDEODRIVER=dummy``, as the tests do) is trusted. macOS and Windows need no variable.
    """
    if sys.platform in ("darwin", "win32", "cygwin"):
        return
    if not any(os.environ.get(name) for name in ("DISPLAY", "WAYLAND_DISPLAY", "SDL_VIDEODRIVER")):
        raise NoDisplayError(NO_DISPLAY)


class Window:
    """A pygame window that shows uint8 frames scaled up, with a heads-up text line under them.

    ``show`` returns False once the user closed the window or pressed Esc. Keys pressed since the
    last call are in ``keys_pressed`` and keys held down in ``keys_held`` (pygame key codes),
    which ``rlsuite play`` reads. Making one where no window can be seen raises NoDisplayError.
    """

    def __init__(self, title: str = "rlsuite", fps: float = 30.0, min_size: int = 512) -> None:
        check_display()
        self.pygame = _import_pygame()
        self.title = title
        self.fps = fps
        self.min_size = min_size
        self.keys_pressed: list[int] = []
        self.keys_held: set[int] = set()
        self.closed = False
        self._surface = None
        self._clock = None

    def _open(self, size: tuple[int, int]) -> None:
        pg = self.pygame
        try:
            pg.display.init()
            self._surface = pg.display.set_mode(size)
        except pg.error as exc:  # e.g. DISPLAY names an X server that does not answer
            raise NoDisplayError(f"cannot open a window ({exc})") from None
        pg.display.set_caption(self.title)
        self._clock = pg.time.Clock()

    def poll(self) -> bool:
        """Pump events; remember key presses; return False if the window should close."""
        pg = self.pygame
        self.keys_pressed = []
        for event in pg.event.get():
            if event.type == pg.QUIT:
                self.closed = True
            elif event.type == pg.KEYDOWN:
                if event.key == pg.K_ESCAPE:
                    self.closed = True
                self.keys_pressed.append(event.key)
                self.keys_held.add(event.key)
            elif event.type == pg.KEYUP:
                self.keys_held.discard(event.key)
        return not self.closed

    def show(self, frame: np.ndarray, text: str = "") -> bool:
        """Draw `frame` (H, W, 3 uint8) scaled up, with `text` beneath; False once closed."""
        if self.closed:
            return False
        pg = self.pygame
        picture = with_hud(frame, text, display_scale(frame.shape, self.min_size))
        size = (picture.shape[1], picture.shape[0])
        if self._surface is None or self._surface.get_size() != size:
            self._open(size)
        pg.surfarray.blit_array(self._surface, picture.swapaxes(0, 1))
        pg.display.flip()
        alive = self.poll()
        self._clock.tick(self.fps)
        return alive

    def close(self) -> None:
        if self._surface is not None:
            self.pygame.display.quit()
            self._surface = None
        self.closed = True
