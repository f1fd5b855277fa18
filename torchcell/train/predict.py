"""A trained model on its own: ``load_model(run)`` and predictions for genotypes by gene name.

``model = load_model("runs/demo")`` rebuilds the ``CellModule`` of a ``tc train`` run from its
``model.pt`` (a Lightning checkpoint with the module's hyperparameters) and the cell graph of
the dataset it was trained on; ``model.predict([["YAL001C", "YBR002C"]])`` scores genotypes
that need not be in any dataset. ``tc predict RUN --genes YAL001C,YBR002C`` prints the same.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch

from torchcell.cell.graph import CellGraph
from torchcell.cell.processors import PerturbationRepresentation
from torchcell.errors import TorchCellError
from torchcell.schema.records import PERTURBATION_KINDS
from torchcell.store.records import StoredExperiment
from torchcell.train.checkpoint import read_checkpoint
from torchcell.train.module import CellModule


def load_model(run: Path | str, dataset: Path | str | None = None) -> CellModule:
    """The trained module of a run folder (or its ``model.pt``), in evaluation mode on the CPU.

    ``dataset``: where the cell graph is read (``cell_graph.pt``); by default the dataset
    the run was trained on, as its config names it.
    """
    raw = read_checkpoint(run)
    hparams = raw["hyper_parameters"]
    root = Path(dataset if dataset is not None else hparams["config"]["dataset"])
    if not (root / "cell_graph.pt").exists():
        raise TorchCellError(
            f"the run's cell graph {root / 'cell_graph.pt'} does not exist; pass the dataset it "
            "was trained on (load_model(run, dataset=...) or tc predict --dataset)"
        )
    cell = CellGraph.load(root)
    if cell.genes != hparams["genes"]:
        raise TorchCellError(
            f"{root} indexes {len(cell.genes)} genes and the run {len(hparams['genes'])}, not in "
            "the same order: it is not the dataset the model was trained on"
        )
    module = CellModule(**hparams, cell=cell)
    module.load_state_dict(raw["state_dict"])
    return module.eval()


def predict(
    module: CellModule,
    genotypes: Sequence[Sequence[str]],
    environment: str | None = None,
    kinds: Sequence[Sequence[str]] | None = None,
    batch_size: int = 256,
) -> list[dict]:
    """One row per genotype: its genes, the environment and each label in its own units.

    ``genotypes``: lists of systematic gene names (``[["YAL001C", "YBR002C"], ["YAL002W"]]``).
    ``environment``: one of the run's environments (``module.environments``); needed only when
    the run has several. ``kinds``: the allele kind of each gene (default ``deletion``; one of
    ``torchcell.schema.PERTURBATION_KINDS``).
    """
    env = _environment(module, environment)
    records = [
        _record(i, genes, None if kinds is None else kinds[i], env, module)
        for i, genes in enumerate(genotypes)
    ]
    collate = PerturbationRepresentation(module.cell).collate
    rows = []
    module.eval()
    with torch.no_grad():
        for start in range(0, len(records), batch_size):
            chunk = records[start : start + batch_size]
            batch = collate(chunk).to(module.device)
            pred = module.in_label_units(module.model(batch).pred).cpu()
            for genes, values in zip(genotypes[start : start + batch_size], pred, strict=True):
                row = {"genes": list(genes), "environment": module.environments[env]}
                row.update(
                    {label: float(v) for label, v in zip(module.labels, values, strict=True)}
                )
                rows.append(row)
    return rows


def _record(i: int, genes: Sequence[str], kinds, env: int, module: CellModule) -> StoredExperiment:
    if isinstance(genes, str):
        raise TorchCellError(
            f"genotype {i + 1} is the string {genes!r}; give each genotype as a list of genes"
        )
    if not genes:
        raise TorchCellError(f"genotype {i + 1} has no gene")
    index = {g: n for n, g in enumerate(module.genes)}
    unknown = [g for g in genes if g not in index]
    if unknown:
        raise TorchCellError(
            f"genotype {i + 1}: gene(s) {unknown} are not among the model's {len(index)} genes "
            "(systematic names, e.g. YAL001C)"
        )
    if len(set(genes)) != len(genes):
        raise TorchCellError(f"genotype {i + 1} names a gene twice: {list(genes)}")
    kinds = list(kinds) if kinds is not None else ["deletion"] * len(genes)
    bad = [k for k in kinds if k not in PERTURBATION_KINDS]
    if bad or len(kinds) != len(genes):
        raise TorchCellError(
            f"genotype {i + 1}: kinds {kinds} must give one of {list(PERTURBATION_KINDS)} per gene"
        )
    return StoredExperiment(
        f"predict-{i}", [index[g] for g in genes],
        [PERTURBATION_KINDS.index(k) for k in kinds], [""] * len(genes), env, 0, [], 1,
    )  # fmt: skip


def _environment(module: CellModule, environment: str | None) -> int:
    known = module.environments
    if environment is None:
        if len(known) == 1:
            return 0
        raise TorchCellError(f"the run knows several environments; name one of {known}")
    if environment not in known:
        raise TorchCellError(f"environment {environment!r} is not one of the run's {known}")
    return known.index(environment)
