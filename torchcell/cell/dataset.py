"""``Neo4jCellDataset``: a materialized dataset's shards as PyG ``HeteroData`` samples.

A sample holds the whole gene node set only by its size (``num_nodes``), the perturbed genes'
indices and kinds, a ``pert_mask`` over genes, the labels (NaN where not measured) and the
environment index. The wildtype graph is never copied per sample: models read it once.
LMDB handles are opened lazily, once per process (``open_shard``), so ``num_workers > 0`` is safe.
"""

from __future__ import annotations

import bisect
from pathlib import Path

import torch
from torch_geometric.data import Dataset, HeteroData

from torchcell.store.manifest import Manifest, read_genes
from torchcell.store.shard import ShardReader, open_shard


class Neo4jCellDataset(Dataset):
    def __init__(self, root: str | Path, transform=None):
        self.manifest = Manifest.read(root)
        self.genes = read_genes(root)
        self._offsets = [0]
        for shard in self.manifest.shards:
            self._offsets.append(self._offsets[-1] + shard["count"])
        super().__init__(str(root), transform=transform)

    @property
    def labels(self) -> list[str]:
        return self.manifest.labels

    @property
    def num_genes(self) -> int:
        return len(self.genes)

    def _shard(self, index: int) -> ShardReader:
        return open_shard(Path(self.root) / self.manifest.shards[index]["file"])

    def len(self) -> int:
        return self._offsets[-1]

    def get(self, idx: int) -> HeteroData:
        shard = bisect.bisect_right(self._offsets, idx) - 1
        record = self._shard(shard)[idx - self._offsets[shard]]
        data = HeteroData()
        genes = torch.tensor(record.genes, dtype=torch.long)
        data["gene"].num_nodes = self.num_genes
        mask = torch.zeros(self.num_genes, dtype=torch.bool)
        mask[genes] = True
        data["gene"].pert_mask = mask
        data["gene"].perturbed = genes
        data["gene"].perturbed_kind = torch.tensor(record.kinds, dtype=torch.long)
        data.y = torch.tensor(
            [[float("nan") if v is None else v for v in record.labels]], dtype=torch.float32
        )
        data.environment = torch.tensor([record.environment], dtype=torch.long)
        data.experiment_id = record.id
        return data
