"""``CellDataset``: a materialized dataset's shards as PyG samples.

Reads ``manifest.json``, ``cell_graph.pt`` and the LMDB shards (opened lazily, once per
process, so ``num_workers > 0`` is safe). Each sample is a stored experiment (perturbed gene
indices and kinds, labels, environment) turned into model input by a GraphProcessor;
``PerturbationRepresentation`` by default, which copies nothing of the wildtype graph.
"""

from __future__ import annotations

import bisect
import warnings
from collections.abc import Callable
from pathlib import Path

from torch.utils.data import Dataset as TorchDataset
from torch_geometric.data import Dataset

from torchcell.cell.graph import CellGraph
from torchcell.cell.processors import PerturbationRepresentation
from torchcell.store.manifest import Manifest
from torchcell.store.records import StoredExperiment
from torchcell.store.shard import open_shard


class CellDataset(Dataset):
    """The samples of a materialized dataset folder (its LMDB shards, manifest and cell graph),
    each built by ``processor`` from the wildtype cell graph and one stored experiment."""

    def __init__(
        self,
        root: str | Path,
        processor: Callable[[CellGraph], Callable[[StoredExperiment], object]] | None = None,
        transform=None,
    ):
        self.manifest = Manifest.read(root)
        self.cell_graph = CellGraph.load(root)
        self.processor = (processor or PerturbationRepresentation)(self.cell_graph)
        self._offsets = [0]
        for shard in self.manifest.shards:
            self._offsets.append(self._offsets[-1] + shard["count"])
        super().__init__(str(root), transform=transform)

    @property
    def labels(self) -> list[str]:
        return self.manifest.labels

    @property
    def genes(self) -> list[str]:
        return self.cell_graph.genes

    @property
    def num_genes(self) -> int:
        return len(self.cell_graph.genes)

    def len(self) -> int:
        return self._offsets[-1]

    def record(self, idx: int) -> StoredExperiment:
        shard = bisect.bisect_right(self._offsets, idx) - 1
        path = Path(self.root) / self.manifest.shards[shard]["file"]
        return open_shard(path)[idx - self._offsets[shard]]

    def records(self):
        """Every stored experiment in index order (for splits and statistics, no graphs built)."""
        for shard in self.manifest.shards:
            yield from open_shard(Path(self.root) / shard["file"])

    def get(self, idx: int):
        return self.processor(self.record(idx))

    def record_view(self, indices) -> RecordView:
        """The stored records at ``indices`` as a torch Dataset (for a processor's ``collate``)."""
        return RecordView(self, [int(i) for i in indices])


class RecordView(TorchDataset):
    def __init__(self, dataset: CellDataset, indices: list[int]):
        self.dataset, self.indices = dataset, indices

    def __len__(self) -> int:
        return len(self.indices)

    def __getitem__(self, i: int) -> StoredExperiment:
        return self.dataset.record(self.indices[i])


class Neo4jCellDataset(CellDataset):
    """Deprecated name of ``CellDataset`` (which reads LMDB shards, not Neo4j)."""

    def __init__(self, *args, **kwargs):
        warnings.warn(
            "Neo4jCellDataset is renamed CellDataset (it reads a materialized folder, not Neo4j)",
            DeprecationWarning,
            stacklevel=2,
        )
        super().__init__(*args, **kwargs)
