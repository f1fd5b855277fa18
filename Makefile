# The two commands of the README. Both create the virtual environment when it is missing.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: demo test venv neo4j clean

venv: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q -e '.[dev]'
	touch $@

neo4j:
	cd pipeline/neo4j && mvn -B -q package -DskipTests

# Build the graph from the bundled sample, materialize a dataset, train a small model.
demo: venv neo4j
	$(BIN)/tc db start
	$(BIN)/tc build-db --source-dir pipeline/sample --executor local
	rm -rf runs/datasets/sga_public_trigenic_sample runs/datasets/emap_schuldiner2005_sample  # the demo's own outputs: a rerun after a rebuild starts them afresh
	$(BIN)/tc materialize-dataset pipeline/datasets/sga_public_trigenic.yaml --out runs/datasets/sga_public_trigenic_sample --executor local
	$(BIN)/tc materialize-dataset pipeline/datasets/emap_schuldiner2005_sample.yaml --out runs/datasets/emap_schuldiner2005_sample --executor local
	$(BIN)/tc train pipeline/train/demo.yaml --overwrite
	@echo "results: runs/datasets/sga_public_trigenic_sample (LMDB shard + manifest.json), runs/train/demo (model.pt + metrics.json)"
	@echo "the local Neo4j keeps running; stop it with: $(BIN)/tc db stop"

test: venv neo4j
	$(BIN)/python -m pytest

clean:
	rm -rf runs .pytest_cache
