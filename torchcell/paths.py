"""Where the project's declarative inputs live (the ``pipeline/`` folder of this checkout)."""

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
PIPELINE = REPO_ROOT / "pipeline"
SAMPLE_DIR = PIPELINE / "sample"
"""The bundled sample: real SGD and Costanzo 2016 subsets plus a generated SGA table."""
LAUNCHER_DIR = PIPELINE / "neo4j"
