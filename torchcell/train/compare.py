"""``tc compare``: several models, several seeds each, on one or more splits, beside the baselines.

For every split and every config, ``seeds`` runs differ only in ``seed`` (initialisation,
shuffling, dropout) and ``split_seeds`` splits only in their training and validation parts
(``split_seed``, ``split_seed + 1``, …): the test part is locked by ``test_seed``
(``torchcell.cell.splits``), so every run and every baseline is scored on the same test samples,
at the checkpoint chosen on its own validation part. A row gives the mean ± SD over all runs
(split seeds × seeds) of each test metric and a 95 % bootstrap interval of the runs' mean
(``metrics.bootstrap_ci``): a cluster bootstrap over the units the split holds out (test genes
for held-out genes, the genes on both sides for held-out pairs), test samples for random. The
baselines are fitted once per split seed (they do not depend on the training seed); a
baseline row is the mean ± SD over split seeds.

Beside each model, per label, the **best null**: the baseline with the lowest *validation*
MSE, averaged over split seeds (never chosen on test; the "all singles" reference, which reads
test singles, is not a candidate), and the model's test MSE minus the null's with a paired
bootstrap interval (``metrics.paired_delta_ci``, each run paired with the null of its own split
seed): marginal intervals of two models overlap even when one is better on nearly every
resample, the paired interval of the difference does not hide that.

Runs go to ``OUT/SPLIT/NAME/splitF/seedS`` (NAME: the config file's stem, so two configs of one
model, e.g. a variant, stay apart; F: the split seed); the table to ``OUT/compare.md``,
everything to ``OUT/compare.json``, both rewritten after every model with the split's
baselines (a compare cut off midway keeps the models that finished, beside their nulls). With
``resume``, a run whose folder holds a finished run of the same config on the same dataset
(``loop.finished_run``) is read back instead of trained again: rerun a cut-off compare with
``--resume`` to train only what is missing (not after changing the code: it cannot tell)."""

from __future__ import annotations

import itertools
import json
import math
import statistics
from collections.abc import Callable
from pathlib import Path

import torch

from torchcell.checksum import write_json
from torchcell.errors import TorchCellError
from torchcell.provenance import provenance
from torchcell.train.baselines import REFERENCES
from torchcell.train.config import TrainConfig, with_base
from torchcell.train.loop import TrainResult, dataset_identity, finished_run, train
from torchcell.train.metrics import bootstrap_ci, paired_delta_ci

HEADER = (
    "model", "split", "label", "n", "seeds", "MSE", "MSE 95% CI", "Pearson", "Pearson 95% CI",
    "best null (val)", "ΔMSE vs null [95% CI]",
)  # fmt: skip


def best_null(baselines: list[dict], label: str) -> str | None:
    """The baseline with the lowest validation MSE on ``label``, averaged over the split seeds'
    ``baselines`` (``REFERENCES`` excluded: the all-singles reference reads the test split's
    singles, the replicate ceiling is no model)."""
    candidates = {
        name: statistics.fmean(b[name]["val"][label]["mse"] for b in baselines)
        for name, scores in baselines[0].items()
        if name not in REFERENCES and scores["val"][label]["n"]
    }
    return min(candidates, key=candidates.get) if candidates else None


def _mean_sd(values: list[float]) -> tuple[float, float]:
    """Mean and SD; NaN for both where a value is NaN (the Pearson of a constant null)."""
    if any(math.isnan(v) for v in values):
        return math.nan, math.nan
    sd = statistics.stdev(values) if len(values) > 1 else math.nan
    return statistics.fmean(values), sd


def _model_rows(name: str, split: str, results: list[TrainResult], labels: list[str]) -> list:
    true = results[0].test_true
    for r in results[1:]:
        if not torch.equal(torch.isnan(r.test_true), torch.isnan(true)) or not torch.allclose(
            r.test_true.nan_to_num(), true.nan_to_num()
        ):
            raise TorchCellError(f"{name} on {split}: the seeds were scored on different test sets")
    preds = [r.test_pred for r in results]
    clusters = results[0].test_clusters
    ci = bootstrap_ci(preds, true, labels, clusters=clusters)
    rows, (commits, epochs_run) = [], _run_records(results)
    for j, label in enumerate(labels):
        per_seed = [r.test[label] for r in results]
        null = best_null([r.baselines for r in results], label)
        deltas = {  # against every competing null, paired run by run (each with its split's)
            baseline: paired_delta_ci(
                [p[:, [j]] for p in preds], [r.baseline_test_pred[baseline][:, [j]] for r in results],
                true[:, [j]], [label], clusters=clusters,
            )[label]
            for baseline in results[0].baseline_test_pred
            if baseline not in REFERENCES
        }  # fmt: skip
        delta = deltas.get(null, {"delta_mse": float("nan"), "ci": [float("nan")] * 2})
        rows.append(
            {
                "model": name, "split": split, "label": label, "n": per_seed[0]["n"],
                "seeds": len(results),
                "mse": _mean_sd([m["mse"] for m in per_seed]),
                "pearson": _mean_sd([m["pearson"] for m in per_seed]),
                "val_mse": statistics.fmean(r.val[label]["mse"] for r in results),
                "mse_ci": ci[label]["mse"], "pearson_ci": ci[label]["pearson"],
                "per_seed": per_seed, "best_epochs": [r.best_epoch for r in results],
                "epochs_run": epochs_run,
                "null": null, "delta_mse": delta["delta_mse"], "delta_mse_ci": delta["ci"],
                "delta_mse_by_null": deltas,
                "by_size": _by_size([r.test_by_size for r in results], label),
                "commits": commits,
            }
        )  # fmt: skip
    return rows


def _run_records(results: list[TrainResult]) -> tuple[list[str], list[int]]:
    """From each run's ``metrics.json``: the git commits that trained the runs (a run kept by
    ``--resume`` may be older) and the epochs each run trained before it stopped."""
    commits, epochs = set(), []
    for r in results:
        metrics = json.loads(Path(r.metrics_file).read_text())
        commits.add(metrics.get("provenance", {}).get("code", {}).get("commit") or "unknown")
        epochs.append(len(metrics["history"]))
    return sorted(commits), epochs


def _by_size(per_seed: list[dict], label: str) -> dict:
    """{number of mutated genes: {n, mse, pearson}}, means over seeds (ε of doubles and τ of
    triples apart, fitness of 1-, 2- and 3-gene mutants apart)."""
    out = {}
    for size in sorted(per_seed[0]):
        scores = [seed[size][label] for seed in per_seed]
        if scores[0]["n"]:
            out[size] = {
                "n": scores[0]["n"],
                "mse": statistics.fmean(m["mse"] for m in scores),
                "pearson": statistics.fmean(m["pearson"] for m in scores),
            }
    return out


def _baseline_rows(
    split: str, results: list[TrainResult], labels: list[str], folds: list[int]
) -> list:
    """The baselines of one run per split seed: mean ± SD over split seeds, their interval
    that of the split seeds' mean (as a model's over its runs)."""
    rows, first = [], results[0]
    for name, scores in first.baselines.items():
        preds = (
            [r.baseline_test_pred[name] for r in results]
            if name in first.baseline_test_pred
            else None
        )
        ci = (
            bootstrap_ci(preds, first.test_true, labels, clusters=first.test_clusters)
            if preds and len(results) > 1
            else None
        )
        for label in labels:
            if not scores["test"][label]["n"]:
                continue
            per_split = [r.baselines[name] for r in results]
            mse, pearson = ([b["test"][label][k] for b in per_split] for k in ("mse", "pearson"))
            interval = ci[label] if ci else scores["test_ci"][label]
            rows.append(
                {
                    "model": name, "split": split, "label": label,
                    "n": scores["test"][label]["n"], "seeds": len(results), "split_seeds": folds,
                    "mse": _mean_sd(mse), "pearson": _mean_sd(pearson),
                    "val_mse": statistics.fmean(b["val"][label]["mse"] for b in per_split),
                    "mse_ci": interval["mse"], "pearson_ci": interval["pearson"],
                    "by_size": _by_size([b["test_by_size"] for b in per_split], label),
                }
            )  # fmt: skip
    return rows


def compare(
    configs: list[Path],
    splits: list[str],
    seeds: int = 3,
    split_seeds: int = 1,
    split_seed: int | None = None,
    epochs: int | None = None,
    out: Path = Path("runs/compare"),
    log: Callable[[str], None] = print,
    accelerator: str | None = None,
    resume: bool = False,
    overwrite: bool = False,
) -> list[dict]:
    """Train every config ``seeds`` times on ``split_seeds`` splits of every split kind; return
    (and write) the rows.

    ``split_seed`` (the first of the split seeds), ``epochs`` and ``accelerator`` override every config's (None: keep);
    ``resume``: keep the seeds that already finished (see the module docstring); a folder that
    holds a compare is refused unless ``resume`` or ``overwrite``. ``log`` gets a line per
    epoch of every run (its validation loss) and one per finished run."""
    out = Path(out)
    if (out / "compare.json").exists() and not (resume or overwrite):
        raise TorchCellError(
            f"{out} already holds a compare (compare.json); pass --resume to keep its finished "
            "runs, --overwrite to train them again, or --out to write elsewhere"
        )
    rows: list[dict] = []
    total, done = len(splits) * len(configs) * split_seeds * seeds, 0
    for split in splits:
        nulls, null_key = None, None
        for config in configs:
            base = TrainConfig.from_yaml(
                config, split=split, epochs=epochs, split_seed=split_seed, accelerator=accelerator
            )
            stem, results = Path(config).stem, []
            for fold, seed in itertools.product(range(split_seeds), range(seeds)):
                fold, seed = base.split_seed + fold, base.seed + seed
                cfg = base.model_copy(update={
                    "seed": seed, "split_seed": fold,
                    "output": out / split / stem / f"split{fold}" / f"seed{seed}",
                })  # fmt: skip
                where = f"split seed {fold}, " if split_seeds > 1 else ""
                name = f"[{done + 1}/{total}] {stem} on {split}, {where}seed {seed}"
                kept = finished_run(cfg) if resume else None
                result = kept or train(
                    cfg, progress_bar=False, log=lambda line, name=name: log(f"{name}: {line}"),
                    overwrite=True,
                )  # fmt: skip
                results.append(result)
                done += 1
                log(f"{name}: {'kept the finished run, ' if kept else ''}"
                    f"best epoch {result.best_epoch}")  # fmt: skip
            rows += _model_rows(stem, split, results, base.labels)
            folds = list(range(base.split_seed, base.split_seed + split_seeds))
            identity = dataset_identity(base)
            for row in rows[-len(base.labels) :]:
                row["config"], row["dataset_manifest"] = str(config), identity
                row["split_seeds"] = folds
                row["max_epochs"], row["patience"] = base.epochs, base.patience
            key = (identity, tuple(base.labels), tuple(folds))
            if nulls is None or key != null_key:  # the baselines of this data, labels, splits
                nulls, null_key = _baseline_rows(split, results[::seeds], base.labels, folds), key
            # after every model, with the split's nulls: a cut-off compare keeps what ran
            _write(out, rows + nulls, configs)
        if nulls is not None:
            rows += nulls
    return rows


def _write(out: Path, rows: list[dict], configs: list[Path]) -> None:
    """``compare.json``: the rows, each config as read (its ``base:`` chain merged) and what
    made them (code version, machine)."""
    out.mkdir(parents=True, exist_ok=True)
    record = {
        "rows": rows, "configs": [str(c) for c in configs],
        "config_files": {str(c): with_base(Path(c)) for c in configs},
        "provenance": provenance(),
    }  # fmt: skip
    write_json(out / "compare.json", record, indent=2)
    (out / "compare.md").write_text(markdown(rows) + "\n")


def _interval(bounds) -> str:
    return f"[{bounds[0]:.3f}, {bounds[1]:.3f}]"


def _delta(row: dict) -> str:
    if row.get("null") is None:
        return ""
    low, high = row["delta_mse_ci"]
    return f"{row['delta_mse']:+.5f} [{low:+.5f}, {high:+.5f}]"


def table_rows(rows: list[dict]) -> list[tuple[str, ...]]:
    def mean_sd(pair, digits):
        mean, sd = pair
        return f"{mean:.{digits}f}" + ("" if sd != sd else f" ± {sd:.{digits}f}")

    return [
        (
            r["model"],
            r["split"],
            r["label"],
            str(r["n"]),
            str(r["seeds"]),
            mean_sd(r["mse"], 5),
            f"[{r['mse_ci'][0]:.5f}, {r['mse_ci'][1]:.5f}]",
            mean_sd(r["pearson"], 3),
            _interval(r["pearson_ci"]),
            r.get("null") or "",
            _delta(r),
        )  # fmt: skip
        for r in rows
    ]


def markdown(rows: list[dict]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    return "\n".join(lines + ["| " + " | ".join(r) + " |" for r in table_rows(rows)])
