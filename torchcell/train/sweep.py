"""``tc sweep SPEC --trials N``: hyperparameter search with Optuna, chosen on validation only.

A sweep spec (YAML, e.g. ``pipeline/sweeps/hetero_cell.yaml``) names a training config and the
fields to search, dotted for nested sections::

    train: pipeline/train/hetero_cell.yaml
    space:
      lr: {low: 1.0e-4, high: 1.0e-2, log: true}
      hidden: {choices: [32, 64, 128]}
      hetero_cell.layers: {low: 1, high: 3}
      loss.lambda_dist: {low: 0.0, high: 1.0}

``{low, high}`` of ints is an int range, of floats a float range (``log`` for a log scale);
``{choices}`` a categorical. Each trial trains the config with the sampled values and reports
the lowest validation loss of its epochs (the checkpoint ``tc train`` keeps); the test split
plays no part in the choice. The study lives in ``OUT/study.db`` (SQLite), so a sweep that is
stopped resumes where it stopped and ``--trials`` counts the finished trials too. The best
trial's full config is written to ``OUT/best.yaml``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import yaml

from torchcell.config_files import read_yaml
from torchcell.errors import TorchCellError
from torchcell.train.config import TrainConfig
from torchcell.train.loop import train

STUDY = "torchcell"


def _set(data: dict, dotted: str, value) -> None:
    *sections, name = dotted.split(".")
    for section in sections:
        data = data.setdefault(section, {})
    data[name] = value


def _suggest(trial, name: str, spec: dict, where: Path):
    if "choices" in spec:
        return trial.suggest_categorical(name, list(spec["choices"]))
    try:
        low, high = spec["low"], spec["high"]
    except KeyError:
        raise TorchCellError(f"{where}: space.{name} needs 'choices' or 'low' and 'high'") from None
    if isinstance(low, int) and isinstance(high, int):
        return trial.suggest_int(name, low, high, log=bool(spec.get("log")))
    return trial.suggest_float(name, float(low), float(high), log=bool(spec.get("log")))


def sweep(
    spec_path: Path,
    trials: int,
    out: Path,
    sampler: str = "tpe",
    epochs: int | None = None,
    seed: int = 0,
    log: Callable[[str], None] = print,
):
    """Run (or resume) the study until it holds ``trials`` finished trials; return it."""
    import optuna

    spec_path, out = Path(spec_path), Path(out)
    spec = read_yaml(spec_path, "sweep spec")
    if "train" not in spec or not spec.get("space"):
        raise TorchCellError(f"{spec_path}: a sweep spec needs 'train' (a config) and 'space'")
    base = TrainConfig.from_yaml(Path(spec["train"]), epochs=epochs)
    space: dict = spec["space"]
    for name in space:  # every named field must exist in the config
        _check_field(base, name, spec_path)
    out.mkdir(parents=True, exist_ok=True)
    samplers = {"tpe": optuna.samplers.TPESampler, "random": optuna.samplers.RandomSampler}
    if sampler not in samplers:
        raise TorchCellError(f"unknown sampler {sampler!r}: tpe or random")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    storage = f"sqlite:///{(out / 'study.db').resolve()}"
    # a resumed sweep seeds its sampler past the trials already run: the same seed would draw
    # the first trial's values again
    started = len(
        optuna.create_study(
            study_name=STUDY, storage=storage, direction="minimize", load_if_exists=True
        ).trials
    )
    study = optuna.load_study(
        study_name=STUDY, storage=storage, sampler=samplers[sampler](seed=seed + started)
    )

    def config_of(params: dict, output: Path) -> TrainConfig:
        data = base.model_dump(mode="json")
        for name, value in params.items():
            _set(data, name, value)
        data["output"] = str(output)
        return TrainConfig.model_validate(data)

    def objective(trial) -> float:
        params = {name: _suggest(trial, name, s, spec_path) for name, s in space.items()}
        cfg = config_of(params, out / "trials" / f"{trial.number:04d}")
        result = train(
            cfg,
            progress_bar=False,
            log=lambda line, n=trial.number: log(f"trial {n}: {line}"),
            overwrite=True,
        )
        history = _history(result)
        value = min(h["val_loss"] for h in history)
        log(f"trial {trial.number}: validation loss {value:.4f}  {params}")
        return value

    done = sum(t.state == optuna.trial.TrialState.COMPLETE for t in study.trials)
    if trials > done:
        study.optimize(objective, n_trials=trials - done)
    best = study.best_trial
    best_config = config_of(best.params, out / "best")
    (out / "best.yaml").write_text(
        f"# best of {len(study.trials)} trials of {spec_path} (validation loss "
        f"{best.value:.5f}, trial {best.number}); chosen on validation only\n"
        + yaml.safe_dump(best_config.model_dump(mode="json"), sort_keys=False)
    )
    return study


def _history(result) -> list[dict]:
    return json.loads(Path(result.metrics_file).read_text())["history"]


def _check_field(config: TrainConfig, dotted: str, where: Path) -> None:
    value = config.model_dump()
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            raise TorchCellError(f"{where}: space names {dotted!r}, which is not a config field")
        value = value[part]
