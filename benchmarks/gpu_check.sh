#!/usr/bin/env bash
# The README's two GPU rows ("Measured on the development machine") as one script for a lent
# GPU machine, which reaches no network: wheels it lacks are fetched here first.
#
#   bash benchmarks/gpu_check.sh prepare   # here: wheels into .whl/ (needs `make demo`'s
#                                          # runs/datasets/sga_public_trigenic_sample too)
#   bash benchmarks/gpu_check.sh run       # on the GPU machine, with .whl/ and that dataset
#                                          # carried; prints both benchmarks, copies them to $OUT
#
# The device image seen so far (Python 3.12, torch 2.11, PyG 2.8, Lightning 2.6) lacked the
# packages listed below; `run` installs them from .whl/, imports the project from the tree and
# stops, naming them, if other packages are missing.
set -euo pipefail
WHEELS=(lmdb==3.0.0 neo4j==6.4.1 pytz==2026.6 pydantic==2.14.4 pydantic_core==2.50.5
        annotated-types==0.8.0 typing-inspection==0.4.5 typing_extensions==4.16.0)
DATASET=runs/datasets/sga_public_trigenic_sample

case "${1:-}" in
prepare)
  python3 -m pip download --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
    --platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64 \
    --platform manylinux2014_x86_64 -d .whl "${WHEELS[@]}"
  test -f "$DATASET/manifest.json" || { echo "no $DATASET: run make demo first" >&2; exit 1; }
  echo "carry: .whl $DATASET"
  ;;
run)
  python -m pip install --no-index --find-links .whl "${WHEELS[@]}"
  export PYTHONPATH=$PWD${PYTHONPATH:+:$PYTHONPATH}  # the package from the tree: no build offline
  python - <<'PY'  # pyproject.toml's dependencies that do not import here, named at once
import importlib.util, re, sys, tomllib
deps = tomllib.load(open("pyproject.toml", "rb"))["project"]["dependencies"]
module = {"torch-geometric": "torch_geometric", "pyyaml": "yaml"}  # where the names differ
names = [re.split(r"[<>=!~;\[ ]", d, maxsplit=1)[0] for d in deps]
missing = [n for n in names if importlib.util.find_spec(module.get(n, n)) is None]
sys.exit(f"missing on this machine: {missing}" if missing else 0)
PY
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
  python -c "import torch, torch_geometric, lightning; print('torch', torch.__version__, \
'cuda', torch.version.cuda, 'pyg', torch_geometric.__version__, 'lightning', lightning.__version__)"
  log=${OUT:-runs/gpu_check}/gpu_check.log
  mkdir -p "$(dirname "$log")"
  { git rev-parse --short HEAD 2>/dev/null || true
    python benchmarks/train_step.py --device cuda --steps 20
    python benchmarks/accelerator_match.py --epochs 2; } 2>&1 | tee "$log"
  ;;
*)
  echo "usage: bash benchmarks/gpu_check.sh prepare|run" >&2; exit 2 ;;
esac
