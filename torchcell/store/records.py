"""The stored form of one experiment: msgpack, versioned, no pickle.

A record is the msgpack array
``[FORMAT, id, genes, kinds, alleles, environment, dataset, labels, n]``:

* ``id``: the experiment id as 16 raw bytes (of the first replicate when several were merged);
* ``genes``: indices into the dataset's gene list (``cell_graph.pt``, ``genes.json``);
* ``kinds``: indices into ``torchcell.schema.PERTURBATION_KINDS``, one per gene;
* ``alleles``: one per gene, the allele name as the genotype identity reads it (case-folded;
  ``""`` for a deletion, whose allele is the gene), so two ts alleles of one gene differ;
* ``environment``: index into the manifest's ``environments``;
* ``dataset``: index into the spec's ``datasets`` (of the first measurement when merged);
* ``labels``: floats in the manifest's ``labels`` order, ``None`` where not measured;
* ``n``: how many measurements the record stands for (1 unless replicates were merged).

Keys are the record's position in its shard as 8 big-endian bytes, so a shard reads by index.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgpack

FORMAT = 3


@dataclass(frozen=True)
class StoredExperiment:
    id: str
    genes: list[int]
    kinds: list[int]
    alleles: list[str]
    environment: int
    dataset: int
    labels: list[float | None]
    n: int = 1


def encode(record: StoredExperiment) -> bytes:
    return msgpack.packb(
        [
            FORMAT,
            bytes.fromhex(record.id),
            record.genes,
            record.kinds,
            record.alleles,
            record.environment,
            record.dataset,
            record.labels,
            record.n,
        ],
        use_single_float=False,
    )


def decode(payload: bytes) -> StoredExperiment:
    fields = msgpack.unpackb(payload, use_list=True)
    if fields[0] != FORMAT:
        raise ValueError(
            f"record format {fields[0]} is not supported (this code reads format {FORMAT}); "
            "materialize the dataset again"
        )
    _, raw_id, genes, kinds, alleles, environment, dataset, labels, n = fields
    return StoredExperiment(raw_id.hex(), genes, kinds, alleles, environment, dataset, labels, n)


def key(index: int) -> bytes:
    return index.to_bytes(8, "big")
