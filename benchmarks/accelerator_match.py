"""`tc train --accelerator gpu` against the same run on the CPU: do the test metrics match?

    python benchmarks/accelerator_match.py [CONFIG] [--epochs 3] [--out runs/accelerator_match]

Trains CONFIG (default: the sample's HeteroCell, pipeline/train/hetero_cell.yaml) twice with
`tc train`, once with ``--accelerator cpu`` and once with ``--accelerator gpu``, same seed, same
split, same shuffling (the loader's generator lives on the CPU). Dropout is set to 0 in a copy
of the config: the GPU draws its dropout masks from another generator than the CPU, so with
dropout the two runs would differ by a seed's spread rather than by floating-point order.
What remains is float32 summation order (cuSPARSE and cuBLAS against MKL/OpenBLAS), which
grows over the steps; the tolerance is 2 % of each test MSE and 0.02 of each Pearson.
Prints both runs' test metrics, their differences and seconds per run; exits 1 beyond tolerance.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import yaml

RTOL_MSE, ATOL_PEARSON = 0.02, 0.02


def train(config: Path, accelerator: str, epochs: int, out: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "torchcell.cli.app", "train", str(config), "--accelerator",
         accelerator, "--epochs", str(epochs), "--out", str(out), "--overwrite",
         "--no-progress"],
        check=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    return json.loads((out / "metrics.json").read_text()), seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "config", nargs="?", type=Path, default=Path("pipeline/train/hetero_cell.yaml")
    )
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--out", type=Path, default=Path("runs/accelerator_match"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    settings = yaml.safe_load(args.config.read_text())
    settings.update(dropout=0.0, patience=args.epochs)
    config = args.out / "config.yaml"
    config.write_text(yaml.safe_dump(settings, sort_keys=False))
    runs = {acc: train(config, acc, args.epochs, args.out / acc) for acc in ("cpu", "gpu")}
    (cpu, cpu_s), (gpu, gpu_s) = runs["cpu"], runs["gpu"]
    print(f"{args.config} ({settings['model']}), {args.epochs} epochs, dropout 0, seed "
          f"{settings.get('seed', 0)}: cpu {cpu_s:.0f} s, gpu {gpu_s:.0f} s (whole `tc train`)")  # fmt: skip
    print(f"best epoch: cpu {cpu['best_epoch']}, gpu {gpu['best_epoch']}")
    failed = False
    for label, score in cpu["test"].items():
        other = gpu["test"][label]
        d_mse = abs(other["mse"] - score["mse"]) / score["mse"]
        d_r = abs(other["pearson"] - score["pearson"])
        ok = d_mse <= RTOL_MSE and d_r <= ATOL_PEARSON
        failed |= not ok
        print(
            f"test {label} (n {score['n']}): MSE cpu {score['mse']:.6f} gpu {other['mse']:.6f} "
            f"(rel. diff {d_mse:.2%}); Pearson cpu {score['pearson']:.4f} gpu "
            f"{other['pearson']:.4f} (diff {d_r:.4f}) {'ok' if ok else 'BEYOND TOLERANCE'}"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
