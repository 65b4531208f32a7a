"""What the grid games (KeyDoor, Maze) share: cell ids, moves, tiles, drawing and BFS distances.

A grid is a (B, H, W) array of small integer cell ids, row (y) first. Cells are drawn as square
tiles of one palette colour each, so a grid of any size fits the 64x64 frame of the pixel
observation (centred, with a thin margin when 64 is not a multiple of the grid size).
"""

from __future__ import annotations

from collections import deque

import numpy as np

from rlsuite.envs import render

# Cell ids (the order is the order of the tiles in `make_tiles`).
FLOOR, WALL, DOOR_LOCKED, DOOR_OPEN, KEY, GOAL, AGENT = range(7)
CELL_COLOURS = ("floor", "wall", "door_locked", "door_open", "key", "goal", "agent")

# The four moves, in action order: (dx, dy) with y growing downwards as in the picture.
MOVE_NAMES = ("right", "down", "left", "up")
MOVE_DX = np.array([1, 0, -1, 0], dtype=np.int64)
MOVE_DY = np.array([0, 1, 0, -1], dtype=np.int64)


def tile_size(grid_size: int, frame_size: int = 64) -> int:
    """The largest whole tile that fits `grid_size` cells across the frame."""
    return frame_size // grid_size


def make_tiles(size: int) -> np.ndarray:
    """(7, size, size, 3) uint8 tiles, one per cell id, in the shared palette.

    Floor cells are framed by a dark grid line, so cells can be counted by eye; walls, doors and
    the goal are solid blocks; key and agent are discs on the floor, so they read apart from the
    walls even at 4 pixels a cell.
    """
    floor = render.border_tile(render.PALETTE["floor"], size, render.PALETTE["background"])
    wall = render.solid_tile(render.PALETTE["wall"], size)
    tiles = [
        floor,
        wall,
        render.solid_tile(render.PALETTE["door_locked"], size),
        render.solid_tile(render.PALETTE["door_open"], size),
        render.disc_tile(render.PALETTE["key"], size, radius=0.36),
        render.solid_tile(render.PALETTE["goal"], size),
        render.disc_tile(render.PALETTE["agent"], size, radius=0.42),
    ]
    return np.stack(tiles)


def draw_cells(cells: np.ndarray, tiles: np.ndarray, frame_size: int = 64) -> np.ndarray:
    """(B, H, W) cell ids -> (B, frame_size, frame_size, 3) uint8 frames, grid centred."""
    B, H, W = cells.shape
    t = tiles.shape[1]
    picture = render.tile_grid(cells, tiles)  # (B, H*t, W*t, 3)
    if H * t == frame_size and W * t == frame_size:
        return picture
    frames = np.empty((B, frame_size, frame_size, 3), dtype=np.uint8)
    frames[...] = render.color("background")
    top, left = (frame_size - H * t) // 2, (frame_size - W * t) // 2
    frames[:, top : top + H * t, left : left + W * t] = picture
    return frames


def bfs_distances(walls: np.ndarray, target: tuple[int, int]) -> np.ndarray:
    """Steps from every cell to `target` (y, x) on one (H, W) bool wall grid; -1 if unreachable.

    Breadth-first search from the target outwards: one pass gives the shortest path length from
    every cell, so an expert only has to step to a neighbour that is one step closer.
    """
    H, W = walls.shape
    dist = np.full((H, W), -1, dtype=np.int64)
    dist[target] = 0
    queue = deque([target])
    while queue:
        y, x = queue.popleft()
        for dx, dy in zip(MOVE_DX, MOVE_DY, strict=True):
            ny, nx = y + int(dy), x + int(dx)
            if 0 <= ny < H and 0 <= nx < W and not walls[ny, nx] and dist[ny, nx] < 0:
                dist[ny, nx] = dist[y, x] + 1
                queue.append((ny, nx))
    return dist
