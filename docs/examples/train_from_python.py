"""Train and re-score a model from Python, as from a notebook.

    python docs/examples/train_from_python.py runs/datasets/sga_public_trigenic_sample runs/train/notebook

The dataset is a folder written by ``tc materialize-dataset``; ``TrainConfig`` takes the fields
of a training config YAML (docs: ``pipeline/train/demo.yaml``).
"""

import sys
from pathlib import Path

from torchcell import CellDataModule, TrainConfig, evaluate, train

dataset, output = Path(sys.argv[1]), Path(sys.argv[2])

data = CellDataModule(dataset, split="held_out_genes", batch_size=64)
print(f"{len(data.genotypes)} samples, labels {data.dataset.labels}, {data.dataset.num_genes} genes")

config = TrainConfig(dataset=dataset, output=output, model="gene_set", epochs=2, labels=["fitness"])
result = train(config, progress_bar=False, overwrite=True)
print(f"test Pearson of fitness: {result.test['fitness']['pearson']:.3f}")
for name, baseline in result.baselines.items():
    print(f"  {name:<28} {baseline['test']['fitness']['pearson']:.3f}")

scored = evaluate(result.checkpoint, dataset, part="test")
print(f"re-scored {scored['n']} test samples: MSE {scored['metrics']['fitness']['mse']:.5f}")
