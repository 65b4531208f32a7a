"""Data for ``rlsuite fit``: images (digits, a .npz file, a folder) and synthetic token sequences.

Every source becomes one :class:`Dataset` with fixed train / validation / test splits, so that a
model's test score means the same thing on every run::

    load_dataset("digits")        scikit-learn's handwritten digits (8x8, 10 classes), no download
    load_dataset("frames.npz")    an array of images, with optional labels (see `read_npz`)
    load_dataset("pictures/")     a folder of images; sub-folders name the classes
    load_dataset("reverse")       synthetic sequences: the target is the source reversed
    load_dataset("sort")          ... or the source sorted

Images are float32 in [0, 1] as (N, C, H, W), PyTorch's layout; labels are int64 class indices.
The test split is 20% of the examples and the validation split 10%, drawn with a fixed seed
(stratified by class where there are labels). Every mistake in a file is one RlsuiteError line.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from rlsuite.errors import RlsuiteError, one_line

SPLIT_SEED = 0  # the one seed of every split: the same test set on every run
TEST_FRACTION = 0.2  # the "20% held out"
VAL_FRACTION = 0.1  # of all examples, taken from what is not test
MIN_EXAMPLES = 5  # fewer cannot fill three splits
MAX_CHANNELS = 16  # colours (1, 3, 4), or a stack of frames' colours (frame_stack=2: 6)
IMAGE_KEYS = ("images", "frames", "x")  # what a .npz's image array may be called
LABEL_KEYS = ("labels", "y")  # ... and its labels
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif")
SEQUENCE_TASKS = ("reverse", "sort")
BUILTIN = ("digits", *SEQUENCE_TASKS)


@dataclass(frozen=True)
class DataSpec:
    """What a model needs to know of its data to build its networks.

    kind "images": `shape` is (C, H, W); kind "tokens": `shape` is (L,), the source length, and
    targets are sequences of `target_length` tokens from ``range(vocab_size)``.
    `num_classes` is 0 for unlabelled data.
    """

    name: str
    kind: str  # "images" or "tokens"
    shape: tuple[int, ...]
    num_classes: int = 0
    class_names: tuple[str, ...] = ()
    vocab_size: int = 0
    target_length: int = 0

    @property
    def labelled(self) -> bool:
        return self.num_classes > 0


class Split(NamedTuple):
    """One split: inputs `x` and targets `y` (class indices, target tokens, or None)."""

    x: torch.Tensor
    y: torch.Tensor | None

    def __len__(self) -> int:
        return len(self.x)


class Batch(NamedTuple):
    """A minibatch, on the model's device: ``x`` (B, ...) and ``y`` (B, ...) or None."""

    x: torch.Tensor
    y: torch.Tensor | None


@dataclass(frozen=True)
class Dataset:
    """A data source with its fixed splits."""

    spec: DataSpec
    train: Split
    val: Split
    test: Split


def load_dataset(source: str | Path, label: str | None = None) -> Dataset:
    """`source` ("digits", "reverse", "sort", a .npz file or a folder of images) with its splits.

    `label` names the .npz array to use as labels when the file holds several (default: the
    array called "labels" or "y", if any).
    """
    text = str(source)
    if text == "digits":
        images, labels, names = digits()
        return _image_dataset("digits", images, labels, names)
    if text in SEQUENCE_TASKS:
        return sequence_dataset(text)
    path = Path(text)
    if path.is_dir():
        images, labels, names = read_image_folder(path)
        return _image_dataset(path.name or str(path), images, labels, names)
    if path.suffix == ".npz" or path.is_file():
        images, labels, names = read_npz(path, label)
        return _image_dataset(path.stem, images, labels, names)
    raise RlsuiteError(
        f"no such data: {text!r}; give {', '.join(BUILTIN)}, a .npz file or a folder of images"
    )


def iterate_batches(
    split: Split, batch_size: int, generator: torch.Generator | None = None
) -> Iterator[tuple[torch.Tensor, torch.Tensor | None]]:
    """Minibatches of `split`: shuffled by `generator`, in order when it is None (evaluation).

    In training a last minibatch of one example joins the one before it: batch norm and the
    contrastive losses cannot train on a batch without spread.
    """
    n = len(split)
    order = torch.randperm(n, generator=generator) if generator is not None else torch.arange(n)
    starts = list(range(0, n, batch_size))
    if generator is not None and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    for start, end in zip(starts, [*starts[1:], n], strict=True):
        index = order[start:end]
        yield split.x[index], (split.y[index] if split.y is not None else None)


# ------------------------------------------------------------------------------------------------
# Sources
# ------------------------------------------------------------------------------------------------


def digits() -> tuple[np.ndarray, np.ndarray, tuple[str, ...]]:
    """scikit-learn's 1,797 handwritten digits: (N, 1, 8, 8) in [0, 1], labels 0-9."""
    from sklearn.datasets import load_digits  # real data shipped inside scikit-learn

    data = load_digits()
    images = (data.images / 16.0).astype(np.float32)[:, None]  # pixel values are 0..16
    return images, data.target.astype(np.int64), tuple(str(d) for d in range(10))


def read_npz(
    path: Path, label: str | None = None
) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Images and labels from a .npz file.

    The images are the array called "images", "frames" or "x": (N, H, W), (N, H, W, C) (as
    Gymnasium renders) or (N, C, H, W), C being 1, 3 or 4 colours or a stack of frames' colours
    (``rlsuite dataset --env-kwargs obs_mode=pixels frame_stack=2``: 6); uint8 0-255 or floats
    in [0, 1]. The channel axis is the shorter of the second and the last.
    The labels, if any, are the array called "labels" or "y" (or `label`): N integers or names.
    """
    if not path.is_file():
        raise RlsuiteError(f"data file not found: {path}")
    if not zipfile.is_zipfile(path):  # np.load would try to unpickle it
        raise RlsuiteError(f"cannot read {path}: not a .npz file (np.savez writes one)")
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
    except ValueError as exc:
        if "allow_pickle" in str(exc):
            raise RlsuiteError(
                f"refusing to read {path}: it holds Python objects (rlsuite never unpickles "
                "data); save plain numeric arrays with np.savez"
            ) from None
        raise RlsuiteError(f"cannot read {path}: not a .npz file ({one_line(exc)})") from None
    except (OSError, EOFError, zipfile.BadZipFile) as exc:
        raise RlsuiteError(f"cannot read {path}: not a .npz file ({one_line(exc)})") from None
    held = ", ".join(f"{k} {tuple(v.shape)}" for k, v in arrays.items()) or "nothing"
    image_key = next((key for key in IMAGE_KEYS if key in arrays), None)
    if image_key is None:
        raise RlsuiteError(
            f"{path} has no image array: name it {' or '.join(IMAGE_KEYS)}; it holds {held}"
        )
    images = _images_nchw(arrays[image_key], f"{path}: {image_key}")
    label_key = label or next((key for key in LABEL_KEYS if key in arrays), None)
    if label_key is None:
        return images, None, ()
    if label_key not in arrays:
        raise RlsuiteError(f"{path} has no array {label_key!r} for labels; it holds {held}")
    labels, names = _class_indices(arrays[label_key], len(images), f"{path}: {label_key}")
    return images, labels, names


def read_image_folder(folder: Path) -> tuple[np.ndarray, np.ndarray | None, tuple[str, ...]]:
    """Every image under `folder`; images in sub-folders are labelled by the sub-folder's name
    (torchvision's ImageFolder convention), images directly in `folder` are unlabelled."""
    from PIL import Image, UnidentifiedImageError

    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        suffixes = ", ".join(IMAGE_SUFFIXES)
        raise RlsuiteError(f"{folder} holds no images ({suffixes})")
    classes = sorted({p.relative_to(folder).parts[0] for p in files if p.parent != folder})
    if classes and any(p.parent == folder for p in files):
        raise RlsuiteError(
            f"{folder} mixes images in sub-folders (classes) with images directly inside it; "
            "put every image in its class's sub-folder, or all of them in one folder"
        )
    pictures = []
    for file in files:
        try:
            with Image.open(file) as image:
                pictures.append(image.copy())
        except (UnidentifiedImageError, OSError) as exc:
            raise RlsuiteError(f"cannot read image {file}: {one_line(exc)}") from None
    sizes = {picture.size for picture in pictures}
    if len(sizes) > 1:
        (w1, h1), (w2, h2) = sorted(sizes)[:2]
        raise RlsuiteError(
            f"the images in {folder} differ in size ({w1}x{h1}, {w2}x{h2}, ...); "
            "resize them to one size"
        )
    gray = all(picture.mode in ("1", "L", "I;16", "I") for picture in pictures)
    mode = "L" if gray else "RGB"
    images = np.stack([np.asarray(picture.convert(mode)) for picture in pictures])
    images = _images_nchw(images, str(folder))
    if not classes:
        return images, None, ()
    labels = np.array([classes.index(p.relative_to(folder).parts[0]) for p in files])
    return images, labels.astype(np.int64), tuple(classes)


def sequence_dataset(
    task: str, n: int = 40_000, length: int = 8, vocab_size: int = 10, seed: int = SPLIT_SEED
) -> Dataset:
    """A synthetic sequence-to-sequence task: random token sequences and their reversal / sort.

    The model reads the source and predicts the target one next token at a time.
    """
    if task not in SEQUENCE_TASKS:
        raise RlsuiteError(f"unknown sequence task {task!r}; tasks: {', '.join(SEQUENCE_TASKS)}")
    rng = np.random.default_rng(seed)
    source = rng.integers(0, vocab_size, size=(n, length))
    target = source[:, ::-1] if task == "reverse" else np.sort(source, axis=1)
    x = torch.from_numpy(source.astype(np.int64))
    y = torch.from_numpy(np.ascontiguousarray(target).astype(np.int64))
    train, val, test = split_indices(n, None)
    spec = DataSpec(task, "tokens", (length,), vocab_size=vocab_size, target_length=length)
    return Dataset(spec, *(Split(x[i], y[i]) for i in (train, val, test)))


# ------------------------------------------------------------------------------------------------
# Checks and splits
# ------------------------------------------------------------------------------------------------


def _images_nchw(array: np.ndarray, where: str) -> np.ndarray:
    """`array` as float32 (N, C, H, W) in [0, 1]; a clear error for anything else."""
    if array.dtype.kind not in "uif" or array.dtype == np.bool_:
        raise RlsuiteError(f"{where}: images must be numbers, not {array.dtype}")
    if array.ndim == 3:
        array = array[:, None]
    elif array.ndim == 4 and array.shape[-1] < array.shape[1]:
        array = array.transpose(0, 3, 1, 2)  # (N, H, W, C), Gymnasium's layout
    if array.ndim != 4 or array.shape[1] > MAX_CHANNELS or array.shape[1] >= array.shape[2]:
        raise RlsuiteError(
            f"{where}: images must be (N, H, W), (N, H, W, C) or (N, C, H, W), with C (colours, "
            f"or stacked frames' colours) at most {MAX_CHANNELS} and fewer than the pixels of a "
            f"side; got shape {tuple(array.shape)}"
        )
    if len(array) < MIN_EXAMPLES:
        raise RlsuiteError(
            f"{where}: {len(array)} image(s); a train, validation and test split need at least "
            f"{MIN_EXAMPLES}"
        )
    if array.dtype.kind == "f":
        if not np.isfinite(array).all():
            raise RlsuiteError(f"{where}: images hold NaN or infinite values")
        if array.min() < 0 or array.max() > 1:
            raise RlsuiteError(
                f"{where}: float images must lie in [0, 1] (found {array.min():g} to "
                f"{array.max():g}); save uint8 0-255 images or scale them"
            )
        return np.ascontiguousarray(array, dtype=np.float32)
    if array.min() < 0 or array.max() > 255:
        raise RlsuiteError(f"{where}: integer images must lie in 0-255")
    return np.ascontiguousarray(array, dtype=np.float32) / 255.0


def _class_indices(labels: np.ndarray, n: int, where: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """Labels as int64 class indices 0..K-1 and the class names; integer labels keep their
    values (class k is label k), names are sorted."""
    if labels.shape != (n,):
        raise RlsuiteError(
            f"{where}: labels must be one per image, shape ({n},); got {labels.shape}"
        )
    if labels.dtype.kind in "US":
        names, indices = np.unique(labels, return_inverse=True)
        return indices.astype(np.int64), tuple(str(name) for name in names)
    if labels.dtype.kind == "f" and np.all(np.isfinite(labels)) and np.all(labels % 1 == 0):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "uib" or labels.min() < 0:
        raise RlsuiteError(f"{where}: labels must be class indices 0, 1, 2, ... or class names")
    labels = labels.astype(np.int64)
    return labels, tuple(str(k) for k in range(int(labels.max()) + 1))


def split_indices(n: int, labels: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """(train, val, test) indices: 70 / 10 / 20%, fixed seed, stratified by label when every
    class has enough examples."""
    from sklearn.model_selection import train_test_split

    index = np.arange(n)
    n_test = max(1, round(TEST_FRACTION * n))
    n_val = max(1, round(VAL_FRACTION * n))
    stratify = labels if labels is not None and np.bincount(labels).min() >= 3 else None
    try:
        rest, test = train_test_split(
            index, test_size=n_test, random_state=SPLIT_SEED, stratify=stratify
        )
        rest_labels = stratify[rest] if stratify is not None else None
        train, val = train_test_split(
            rest, test_size=n_val, random_state=SPLIT_SEED, stratify=rest_labels
        )
    except ValueError:  # a class too small to stratify: a plain shuffle
        rest, test = train_test_split(index, test_size=n_test, random_state=SPLIT_SEED)
        train, val = train_test_split(rest, test_size=n_val, random_state=SPLIT_SEED)
    return np.sort(train), np.sort(val), np.sort(test)


def _image_dataset(
    name: str, images: np.ndarray, labels: np.ndarray | None, names: tuple[str, ...]
) -> Dataset:
    x = torch.from_numpy(images)
    y = torch.from_numpy(labels) if labels is not None else None
    splits = split_indices(len(x), labels)
    spec = DataSpec(name, "images", tuple(x.shape[1:]), num_classes=len(names), class_names=names)
    return Dataset(spec, *(Split(x[i], y[i] if y is not None else None) for i in splits))
