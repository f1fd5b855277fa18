"""The baselines alone on a materialized dataset and split: what every model is judged against.

    python benchmarks/real_nulls.py DATASET --split held_out_genes --labels fitness [--split-seed 0]

Fits every null of ``torchcell.train.baselines`` on the training part of the split that
``tc train``/``tc compare`` would use (same ``split_seed``, fractions 0.15/0.15), chooses their
hyper-parameters on validation, and prints validation and test MSE and Pearson with the 95 %
bootstrap interval of the test MSE, plus the fit time. No model is trained, so a null added
after a ``tc compare`` run can be set beside that run's table without retraining it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from torchcell.cell.datamodule import CellDataModule
from torchcell.train.baselines import baseline_metrics


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--split", default="held_out_genes")
    parser.add_argument("--labels", nargs="+", default=["fitness"])
    parser.add_argument("--split-seed", type=int, default=0)
    args = parser.parse_args()
    data = CellDataModule(args.dataset, split=args.split, seed=args.split_seed)
    missing = [label for label in args.labels if label not in data.dataset.labels]
    if missing:
        parser.error(f"the dataset has no label(s) {missing}; it has {data.dataset.labels}")
    columns = [data.dataset.labels.index(label) for label in args.labels]
    start = time.perf_counter()
    scores, _ = baseline_metrics(data, columns, args.labels)
    seconds = time.perf_counter() - start
    sizes = {k: len(v) for k, v in data.indices.items()}
    print(
        f"{args.dataset} · {args.split} (split_seed {args.split_seed}) · {sizes} · {seconds:.0f} s"
    )
    print("| null | label | n test | val MSE | test MSE | test MSE 95% CI | test Pearson |")
    print("|---|---|---|---|---|---|---|")
    for name, score in scores.items():
        for label in args.labels:
            val, test = score["val"][label], score["test"][label]
            if not test["n"]:
                continue
            low, high = score["test_ci"][label]["mse"]
            print(
                f"| {name} | {label} | {test['n']} | {val['mse']:.5f} | {test['mse']:.5f} | "
                f"[{low:.5f}, {high:.5f}] | {test['pearson']:.3f} |"
            )


if __name__ == "__main__":
    main()
