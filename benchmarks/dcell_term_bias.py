"""Why DCell's wildtype-zero variant learns real single mutants: the validation curve with and
without term biases, everything else equal (term counts, layer norm, fan-in init, lr 1e-4,
α 0.3, batch 64, the same shuffling).

    python benchmarks/dcell_term_bias.py runs/real/datasets/costanzo2016_smf_deletions [--steps 100] [--every 25] [--term-bias both|false|true]

Trains one DCell per setting on the training part of the held-out-genes split (split_seed 0,
seed 0) and prints, every 25 steps, the validation MSE of the standardized fitness, its
Pearson and the SD of the predictions (the mean predictor's validation MSE for reference).
Validation only: the test split is never read. About 11 min per setting on one thread at the
real GO size (2,406 terms, 138 M parameters).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from torchcell.cell.datamodule import CellDataModule
from torchcell.losses import dcell_loss
from torchcell.models import DCell


def run(data: CellDataModule, term_bias: bool, steps: int, every: int = 25) -> None:
    torch.manual_seed(0)
    column = data.dataset.labels.index("fitness")
    z = data.standardizer.transform(data.y)[:, column]  # mean and SD of the training part
    model = DCell(
        data.dataset.cell_graph, 1, num_environments=len(data.dataset.manifest.environments),
        norm="layer", init_bound=None, gene_input="term_count", term_bias=term_bias,
    )  # fmt: skip
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-4)
    val_z = z[data.indices["val"]]
    print(f"term_bias {term_bias}: mean predictor's validation MSE {(val_z**2).mean():.4f}")
    step, start = 0, time.perf_counter()
    train = data.loader("train")  # one loader: each pass draws a new order from its generator
    while step < steps:
        for batch in train:
            out = model(batch)
            target = data.standardizer.transform(batch.y)[:, column : column + 1]
            loss = dcell_loss(out.pred, out.auxiliary, target, alpha=0.3)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            step += 1
            if step % every == 0:
                model.eval()
                with torch.no_grad():
                    pred = torch.cat([model(b).pred[:, 0] for b in data.loader("val")])
                model.train()
                r = torch.corrcoef(torch.stack([pred, val_z]))[0, 1]
                print(
                    f"  step {step}: validation MSE {((pred - val_z) ** 2).mean():.4f}, "
                    f"Pearson {r:.3f}, prediction SD {pred.std():.3f} "
                    f"({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
            if step >= steps:
                break


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--every", type=int, default=25, help="validate every this many steps")
    parser.add_argument("--term-bias", choices=["both", "false", "true"], default="both")
    args = parser.parse_args()
    settings = {"both": (False, True), "false": (False,), "true": (True,)}[args.term_bias]
    data = CellDataModule(
        args.dataset, split="held_out_genes", batch_size=64, seed=0, shuffle_seed=0
    )
    for term_bias in settings:
        run(data, term_bias, args.steps, args.every)


if __name__ == "__main__":
    main()
