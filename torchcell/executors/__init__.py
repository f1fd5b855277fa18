"""Running N shard tasks of a stage, then its finalize step: locally or on SLURM."""
