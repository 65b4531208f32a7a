"""``rlsuite fit``: train a model of the registry on a dataset into a run folder, and evaluate it.

What ``rlsuite fit MODEL --data DATA`` leaves on disk, like an agent's run::

    runs/fit__<model>__<data>__s<seed>__<YYYYmmdd-HHMMSS>/
        config.yaml      the resolved FitConfig (model, data, epochs, seed, the model's settings)
        tb/              TensorBoard: supervised/train_loss, supervised/val_loss,
                         supervised/val_accuracy ... per epoch; the model's pictures
        checkpoints/     last.pt every epoch, best.pt at the best validation score
        summary.json     the last and best validation metrics and the test metrics of best.pt

Everything is checked before the folder is made: the settings, the data file, whether the model
can train on the data. The checkpoints are the agents' kind of file (:mod:`rlsuite.checkpoints`,
read with ``weights_only=True``) with format ``rlsuite-model``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shlex
import sys
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from rlsuite import __version__
from rlsuite.checkpoints import (
    MODEL_FORMAT,
    MODEL_VERSION,
    find_checkpoint,
    load_saved,
    save_checkpoint,
)
from rlsuite.config import (
    DEVICES,
    MAPPING,
    NON_NEGATIVE_INT,
    POSITIVE_INT,
    REQUIRED,
    TEXT,
    Settings,
    _plain,
    choice,
    optional,
    setting,
)
from rlsuite.errors import ConfigError, RlsuiteError
from rlsuite.logger import Logger
from rlsuite.supervised.data import Dataset, DataSpec, iterate_batches, load_dataset
from rlsuite.supervised.registry import Model, check_data, make_model_config, model_class

TRAIN_LOSS = "supervised/train_loss"
VAL_LOSS = "supervised/val_loss"
VAL_ACCURACY = "supervised/val_accuracy"
FIT_SETTINGS = (
    "epochs",
    "seed",
    "device",
    "torch_threads",
    "label",
)  # --set keys besides the model's


@dataclass(frozen=True)
class FitConfig(Settings):
    """Everything that defines a fit run; saved as the run folder's ``config.yaml``."""

    model: str = setting(REQUIRED, TEXT)
    data: str = setting(REQUIRED, TEXT)  # digits, reverse, sort, a .npz file or a folder
    epochs: int = setting(REQUIRED, POSITIVE_INT)
    seed: int = setting(0, NON_NEGATIVE_INT)
    device: str = setting("auto", choice(*DEVICES))
    torch_threads: int = setting(1, POSITIVE_INT)
    label: str | None = setting(None, optional(TEXT))  # the .npz array used as labels
    model_config: dict[str, Any] = setting({}, MAPPING)  # the model Config's fields

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))


@dataclass
class FitResult:
    """What `fit` reports back."""

    run_dir: Path
    config: FitConfig
    epochs_done: int
    status: str  # "finished" or "interrupted"
    exit_code: int
    last_val: dict[str, float]
    best_val: dict[str, float]
    test: dict[str, float]
    seconds: float


def resolve_fit_config(
    model: str,
    data: str = "digits",
    *,
    epochs: int | None = None,
    seed: int | None = None,
    device: str | None = None,
    settings: dict[str, Any] | None = None,
) -> FitConfig:
    """A checked FitConfig from the command line's pieces; `settings` are ``--set`` pairs, for
    the model's Config or the fit's own settings (epochs, seed, device, torch_threads, label)."""
    cls = model_class(model)
    settings = dict(settings or {})
    model_fields = [f.name for f in dataclasses.fields(cls.Config)]
    for key in settings:
        if key not in (*model_fields, *FIT_SETTINGS):
            valid = ", ".join([*model_fields, *FIT_SETTINGS])
            raise ConfigError(f"unknown setting {key!r} for model {cls.name}; valid: {valid}")
    fit = {key: settings.pop(key) for key in FIT_SETTINGS if key in settings}
    given = {"epochs": epochs, "seed": seed, "device": device}
    fit.update({key: value for key, value in given.items() if value is not None})
    fit.setdefault("epochs", cls.epochs_for(str(data)))
    model_config = make_model_config(cls, settings)  # checked here, before any file is made
    return FitConfig(
        model=cls.name, data=str(data), model_config=dataclasses.asdict(model_config), **fit
    )


def default_run_dir(config: FitConfig, root: str | Path = "runs") -> Path:
    """runs/fit__<model>__<data>__s<seed>__<YYYYmmdd-HHMMSS>."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    data = Path(config.data).stem or "data"
    return Path(root) / f"fit__{config.model}__{data}__s{config.seed}__{stamp}"


def build(config: FitConfig, spec: DataSpec) -> Model:
    """The config's model for data `spec`, on its device, with the run's thread count."""
    from rlsuite.runs import resolve_device
    from rlsuite.threads import use_threads

    use_threads(config.torch_threads)
    cls = model_class(config.model)
    check_data(cls, spec)
    model_config = make_model_config(cls, config.model_config)
    return cls(model_config, spec, seed=config.seed, device=resolve_device(config.device))


# ------------------------------------------------------------------------------------------------
# Training
# ------------------------------------------------------------------------------------------------


def fit(
    config: FitConfig,
    run_dir: str | Path | None = None,
    *,
    force: bool = False,
    progress: bool = False,
    dataset: Dataset | None = None,
) -> FitResult:
    """Train `config`'s model for its epochs into `run_dir`; a start that fails leaves no folder.

    `dataset` skips loading ``config.data`` again (the benchmarks share one).
    """
    from rlsuite.runs import _create_run_dir, _remove_failed_start

    dataset = dataset or load_dataset(config.data, config.label)
    model = build(config, dataset.spec)  # a model that cannot train on the data fails here
    run_dir = Path(run_dir) if run_dir is not None else default_run_dir(config)
    _check_free(run_dir, force)
    created = _create_run_dir(run_dir, force)
    try:
        (run_dir / "config.yaml").write_text(
            f"# rlsuite {__version__} fit config\n" + _yaml(config.to_dict())
        )
        return _fit_loop(config, model, dataset, run_dir, progress)
    except BaseException:
        _remove_failed_start(run_dir, created)
        raise


def resume(run_dir: str | Path, epochs: int | None = None, progress: bool = False) -> FitResult:
    """Continue a fit run from its ``last.pt`` up to its epochs (or `epochs` in all), exactly as
    if it had not stopped: weights, optimisers, schedules, the shuffling and every random
    stream come back from the checkpoint."""
    run_dir = Path(run_dir)
    path = run_dir / "checkpoints" / "last.pt"
    if not path.is_file():
        raise RlsuiteError(f"{run_dir} holds no checkpoints/last.pt: not a fit run to resume")
    data = load_saved(path, formats=(MODEL_FORMAT,))
    if "resume" not in data:
        raise RlsuiteError(f"{path} was written before fit runs could resume; start it over")
    config = FitConfig(**data["config"])
    if epochs is not None:
        config = dataclasses.replace(config, epochs=epochs)
    done = int(data["epoch"])
    if config.epochs <= done:
        raise RlsuiteError(
            f"{run_dir} has trained {done} of {config.epochs} epochs; give --epochs N > {done}"
        )
    dataset = load_dataset(config.data, config.label)
    model = build(config, dataset.spec)
    model.load_state_dict(data["model"])
    (run_dir / "config.yaml").write_text(
        f"# rlsuite {__version__} fit config\n" + _yaml(config.to_dict())
    )
    return _fit_loop(config, model, dataset, run_dir, progress, data["resume"], done)


def _fit_loop(
    config: FitConfig,
    model: Model,
    dataset: Dataset,
    run_dir: Path,
    progress: bool,
    saved: dict[str, Any] | None = None,
    done: int = 0,
) -> FitResult:
    """Epochs of shuffled minibatches; after each, validation, TensorBoard and checkpoints.
    `saved` and `done`: the loop's state and epochs from a checkpoint (resuming)."""
    from tqdm import tqdm

    logger = Logger(run_dir / "tb")
    shuffle = torch.Generator().manual_seed(config.seed)  # the order of the examples
    start = time.perf_counter()
    last_val: dict[str, float] = {}
    best_val: dict[str, float] = {}
    if saved is not None:  # where the run stopped: shuffling, dropout's stream, the best epoch
        shuffle.set_state(saved["shuffle"])
        torch.set_rng_state(saved["torch_rng"])
        best_val = dict(saved["best_val"])
    status, exit_code, epoch = "finished", 0, done
    epochs = range(done + 1, config.epochs + 1)
    bar = tqdm(epochs, unit="epoch", disable=not progress, file=sys.stderr, initial=done)
    try:
        for epoch in bar:
            train = _train_epoch(model, dataset, shuffle)
            last_val = model.evaluate(dataset.val)
            model.set_train_mode(True)
            _log_epoch(logger, model, dataset, train, last_val, epoch, config.epochs)
            checkpoints = [run_dir / "checkpoints" / "last.pt"]
            if not best_val or _better(model, last_val, best_val):
                best_val = {"epoch": epoch, **last_val}
                checkpoints.append(run_dir / "checkpoints" / "best.pt")
            loop = {
                "shuffle": shuffle.get_state(),
                "torch_rng": torch.get_rng_state(),
                "best_val": best_val,
            }
            save_checkpoint(_payload(config, model, epoch, last_val, loop), *checkpoints)
            bar.set_postfix(_short(train, last_val), refresh=False)
    except KeyboardInterrupt:
        if not (run_dir / "checkpoints" / "last.pt").is_file():
            raise
        status, exit_code = "interrupted", 130
    finally:
        bar.close()
        logger.close()
    test = evaluate_checkpoint(run_dir, dataset)  # best.pt on the held-out test split
    seconds = time.perf_counter() - start
    result = FitResult(run_dir, config, epoch, status, exit_code, last_val, best_val, test, seconds)
    summary = {
        "status": status,
        "model": config.model,
        "data": config.data,
        "seed": config.seed,
        "epochs": epoch,
        "last_val": last_val,
        "best_val": best_val,
        "test": test,
        "seconds": round(seconds, 2),
        "finished_at": datetime.now().isoformat(timespec="seconds"),
        "rlsuite_version": __version__,
    }
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return result


def _train_epoch(model: Model, dataset: Dataset, shuffle: torch.Generator) -> dict[str, float]:
    """One pass over the training split; the mean of each metric over its minibatches."""
    model.set_train_mode(True)
    sums: dict[str, float] = {}
    count = 0
    for x, y in iterate_batches(dataset.train, model.config.batch_size, shuffle):
        metrics = model.train_step(model.to_device(x, y))
        for key, value in metrics.items():
            if not math.isfinite(value):
                raise RlsuiteError(f"training stopped: {key} became {value} (lower learning_rate)")
            sums[key] = sums.get(key, 0.0) + value
        count += 1
    return {key: value / count for key, value in sums.items()}


def _log_epoch(
    logger: Logger,
    model: Model,
    dataset: Dataset,
    train: dict[str, float],
    val: dict[str, float],
    epoch: int,
    epochs: int,
) -> None:
    """Scalars every epoch; pictures about ten times per run and at the last epoch."""
    for key, value in train.items():
        logger.write_now(f"supervised/train_{key}", value, epoch)
    for key, value in val.items():
        logger.write_now(f"supervised/val_{key}", value, epoch)
    if epoch % max(1, epochs // 10) == 0 or epoch == epochs:
        images = model.images(dataset.val)
        model.set_train_mode(True)
        for tag, image in images.items():
            logger.writer.add_image(tag, image.clamp(0, 1).cpu(), epoch)
    logger.flush()


def _better(model: Model, new: dict[str, float], best: dict[str, float]) -> bool:
    """Whether validation `new` beats `best` by the model's selection metric."""
    key, direction = model.selection
    if key not in new:
        return True  # no selection metric (GANs): best.pt is the last epoch
    return new[key] > best[key] if direction == "max" else new[key] < best[key]


def _short(train: dict[str, float], val: dict[str, float]) -> dict[str, str]:
    shown = {"loss": f"{train.get('loss', float('nan')):.3g}"}
    shown.update({f"val_{k}": f"{v:.3g}" for k, v in val.items() if k in ("loss", "accuracy")})
    return shown


def _payload(
    config: FitConfig, model: Model, epoch: int, val: dict[str, float], loop: dict[str, Any]
) -> dict:
    return {
        "format": MODEL_FORMAT,
        "format_version": MODEL_VERSION,
        "rlsuite_version": __version__,
        "config": config.to_dict(),
        "spec": _plain(dataclasses.asdict(model.spec)),
        "epoch": epoch,
        "val": dict(val),
        "model": model.state_dict(),
        "resume": loop,  # what `rlsuite fit --resume` needs beyond the model
    }


def _check_free(run_dir: Path, force: bool) -> None:
    if not run_dir.exists() or (run_dir.is_dir() and not any(run_dir.iterdir())):
        return
    if not (run_dir / "config.yaml").exists():
        raise RlsuiteError(f"run folder {run_dir} exists and is not a run folder; choose another")
    if not force:
        raise RlsuiteError(f"run folder {run_dir} exists; start it over with --force")


def _yaml(data: dict[str, Any]) -> str:
    import yaml

    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False)


# ------------------------------------------------------------------------------------------------
# Loading and evaluation
# ------------------------------------------------------------------------------------------------


def load_model(target: str | Path, device: str = "cpu") -> Model:
    """The model saved in a fit run folder (its best.pt, else last.pt) or a checkpoint file,
    ready to evaluate or to compute `features` (an encoder for the agents)."""
    return load_fitted(target, device)[0]


def load_fitted(target: str | Path, device: str = "cpu") -> tuple[Model, FitConfig]:
    """`load_model`'s model and the settings it was trained with, from one read of the file."""
    path = find_checkpoint(target)
    data = load_saved(path, formats=(MODEL_FORMAT,))
    config = FitConfig(**data["config"])
    spec = data["spec"]
    spec = DataSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in spec.items()})
    model = build(dataclasses.replace(config, device=device), spec)
    model.load_state_dict(data["model"])
    model.set_train_mode(False)
    return model, config


def evaluate_checkpoint(target: str | Path, dataset: Dataset | None = None) -> dict[str, Any]:
    """The held-out test metrics of a fit run's best.pt (else last.pt): what ``--eval-only``
    prints."""
    model, config = load_fitted(target)
    dataset = dataset or load_dataset(config.data, config.label)
    if dataset.spec != model.spec:
        raise RlsuiteError(
            f"the data {config.data!r} changed since the model was trained "
            f"({dataset.spec.shape}, {dataset.spec.num_classes} classes now); "
            "evaluate on the data it was trained on"
        )
    metrics = model.evaluate(dataset.test)
    return {
        "model": config.model,
        "data": config.data,
        "split": "test",
        "examples": len(dataset.test),
        **{key: float(value) for key, value in metrics.items()},
    }


def describe_evaluation(result: dict[str, Any]) -> str:
    """One line: "cnn on digits, test split (360 examples): accuracy 0.9861, loss 0.0512"."""
    shown = [
        f"{key} {value:.4f}"
        for key, value in result.items()
        if key not in ("model", "data", "split", "examples")
    ]
    return (
        f"{result['model']} on {result['data']}, {result['split']} split "
        f"({result['examples']} examples): {', '.join(shown)}"
    )


def describe_fit(result: FitResult) -> str:
    """The closing message of `rlsuite fit`: the scores and where everything is."""
    run = shlex.quote(str(result.run_dir))
    best = result.best_val
    lines = [
        f"{result.status} after {result.epochs_done} epoch(s) in {result.seconds:.1f} s "
        f"({result.config.model} on {result.config.data}, seed {result.config.seed})",
    ]
    if best:
        shown = ", ".join(f"{k} {v:.4f}" for k, v in best.items() if k != "epoch")
        lines.append(f"best validation (epoch {best['epoch']}): {shown}")
    lines += [
        f"test: {describe_evaluation(result.test)}",
        f"run folder:   {result.run_dir}  (config.yaml, summary.json)",
        f"TensorBoard:  {result.run_dir / 'tb'}  ->  "
        f"tensorboard --logdir {shlex.quote(str(result.run_dir / 'tb'))}",
        f"checkpoints:  {result.run_dir / 'checkpoints'}  (last.pt, best.pt)",
        f"evaluate it:  rlsuite fit --eval-only {run} --json",
    ]
    return "\n".join(lines)
