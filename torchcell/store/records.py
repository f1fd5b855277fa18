"""The stored form of one experiment: msgpack, versioned, no pickle.

A record is the msgpack array ``[FORMAT, id, genes, kinds, environment, labels]``:

* ``id``: the experiment id as 16 raw bytes (its hex form is 32 characters);
* ``genes``: indices into the dataset's gene list (``genes.json``);
* ``kinds``: indices into ``torchcell.schema.PERTURBATION_KINDS``, one per gene;
* ``environment``: index into the manifest's ``environments``;
* ``labels``: floats in the manifest's ``labels`` order, ``None`` where not measured.

Keys are the record's position in its shard as 8 big-endian bytes, so a shard reads by index.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgpack

FORMAT = 1


@dataclass(frozen=True)
class StoredExperiment:
    id: str
    genes: list[int]
    kinds: list[int]
    environment: int
    labels: list[float | None]


def encode(record: StoredExperiment) -> bytes:
    return msgpack.packb(
        [
            FORMAT,
            bytes.fromhex(record.id),
            record.genes,
            record.kinds,
            record.environment,
            record.labels,
        ],
        use_single_float=False,
    )


def decode(payload: bytes) -> StoredExperiment:
    fmt, raw_id, genes, kinds, environment, labels = msgpack.unpackb(payload, use_list=True)
    if fmt != FORMAT:
        raise ValueError(f"record format {fmt} is not supported (this code reads format {FORMAT})")
    return StoredExperiment(raw_id.hex(), genes, kinds, environment, labels)


def key(index: int) -> bytes:
    return index.to_bytes(8, "big")
