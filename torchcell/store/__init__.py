"""LMDB shards of experiments, their manifest, and materialization from the graph."""
