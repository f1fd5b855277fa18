"""Train, re-score and query a model from Python, as from a notebook.

    python docs/examples/train_from_python.py runs/datasets/sga_public_trigenic_sample runs/train/notebook

The dataset is a folder written by ``tc materialize-dataset``; ``TrainConfig`` takes the fields
of a training config YAML (``pipeline/train/demo.yaml``, reference in ``docs/training.md``).
"""

import sys
from itertools import combinations
from pathlib import Path

from torchcell import CellDataModule, TrainConfig, evaluate, load_model, train

dataset, output = Path(sys.argv[1]), Path(sys.argv[2])

data = CellDataModule(dataset, split="held_out_genes", batch_size=64)
print(
    f"{len(data.genotypes)} samples, labels {data.dataset.labels}, {data.dataset.num_genes} genes"
)

config = TrainConfig(dataset=dataset, output=output, model="gene_set", epochs=2, labels=["fitness"])
result = train(config, progress_bar=False, overwrite=True)
print(f"test Pearson of fitness: {result.test['fitness']['pearson']:.3f}")
for name, baseline in result.baselines.items():
    print(f"  {name:<28} {baseline['test']['fitness']['pearson']:.3f}")

scored = evaluate(result.checkpoint, dataset, part="test")
print(f"re-scored {scored['n']} test samples: MSE {scored['metrics']['fitness']['mse']:.5f}")

# the trained model on its own: a double mutant that no screen of the dataset measured
model = load_model(output)
measured = {frozenset(genes) for genes in data.genotypes}
genes = data.dataset.genes
pair = next(p for p in combinations(range(len(genes)), 2) if frozenset(p) not in measured)
(row,) = model.predict([[genes[pair[0]], genes[pair[1]]]], environment=model.environments[0])
print(
    f"predicted fitness of {','.join(row['genes'])} in {row['environment']}: {row['fitness']:.5f}"
)
