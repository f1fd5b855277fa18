# The two commands of the README. Both create the virtual environment when it is missing.
VENV ?= .venv
BIN := $(VENV)/bin
PYTHON ?= python3

.PHONY: demo test venv neo4j clean results results-real report references

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
	$(BIN)/tc train pipeline/train/demo.yaml --epochs 6 --overwrite
	@echo "results: runs/datasets/sga_public_trigenic_sample (LMDB shard + manifest.json), runs/train/demo (model.pt + metrics.json)"
	@echo "the local Neo4j keeps running; stop it with: $(BIN)/tc db stop"

# Every result of docs/results.md and the README's headline, regenerated from runs (resumable:
# rerun after a cut-off; tc compare --resume keeps finished seeds of the same config and data).
SAMPLE_CONFIGS := pipeline/train/demo.yaml pipeline/train/demo_rewired.yaml pipeline/train/demo_from_null.yaml pipeline/train/hetero_cell.yaml pipeline/train/dcell.yaml pipeline/train/dango.yaml
results: demo
	test -f runs/pretrain/dango_embeddings.pt || $(BIN)/tc pretrain-dango runs/datasets/sga_public_trigenic_sample --out runs/pretrain/dango_embeddings.pt
	$(BIN)/tc compare $(SAMPLE_CONFIGS) --split held_out_genes --split-seeds 3 --seeds 1 --out runs/results/sample_held_out_genes --resume
	$(MAKE) report TASKS=sample_held_out_genes

# The tables on the full public files (docs/real-data.md): run benchmarks/real_graph.py first;
# its graph lives in runs/real_graph/home (TC_HOME), started here. Three split seeds around one
# locked test part, one training seed each; every config stops early (patience 5 of 40 epochs).
REAL := runs/real/datasets
RUNS := --split-seeds 3 --seeds 1 --resume
REAL_TASKS := single_mutant_fitness emap_held_out_pairs emap_held_out_genes sga_epsilon_tau
SMF_CONFIGS := $(addprefix pipeline/train/real_smf/,gene_set.yaml gene_set_from_null.yaml \
  hetero_cell_wildtype_go.yaml hetero_cell_wildtype_go_from_null.yaml hetero_cell_wildtype_go_rewired.yaml \
  hetero_cell_wildtype_go_edgeless.yaml hetero_cell_go.yaml hetero_cell_go_rewired.yaml)
EMAP_CONFIGS := $(addprefix pipeline/train/real_emap/,gene_set.yaml gene_set_from_null.yaml)
SGA_CONFIGS := $(addprefix pipeline/train/real_sga/,gene_set.yaml gene_set_from_null.yaml \
  hetero_cell_wildtype.yaml hetero_cell_wildtype_rewired.yaml)
results-real: export TC_HOME = $(CURDIR)/runs/real_graph/home
results-real: venv neo4j
	$(BIN)/tc db start --heap 2g
	for spec in costanzo2016_smf_deletions emap_schuldiner2005 sga_public_trigenic; do \
	  test -f $(REAL)/$$spec/manifest.json || $(BIN)/tc materialize-dataset pipeline/datasets/$$spec.yaml --out $(REAL)/$$spec --executor local || exit 1; done
	$(BIN)/tc compare $(SMF_CONFIGS) --split held_out_genes $(RUNS) --out runs/results/single_mutant_fitness
	$(BIN)/tc compare $(EMAP_CONFIGS) --split held_out_pairs $(RUNS) --out runs/results/emap_held_out_pairs
	$(BIN)/tc compare $(EMAP_CONFIGS) --split held_out_genes $(RUNS) --out runs/results/emap_held_out_genes
	$(BIN)/tc compare $(SGA_CONFIGS) --split random $(RUNS) --out runs/results/sga_epsilon_tau
	$(MAKE) report TASKS="$(REAL_TASKS)"

# The compare records behind docs/results.md are kept in docs/results/compare/<task>/compare.json:
# this copies the given tasks' fresh records there and writes the page and the README headline
# from all kept records (tests/test_docs.py checks that the page is the one they give).
TASKS ?=
report: venv
	for task in $(TASKS); do mkdir -p docs/results/compare/$$task && cp runs/results/$$task/compare.json docs/results/compare/$$task/ || exit 1; done
	$(BIN)/tc report $$(dirname docs/results/compare/*/compare.json) --out docs/results.md --readme README.md

# docs/reference/ from the code's field descriptions (tests/test_docs.py fails when stale)
references: venv
	$(BIN)/tc reference --out docs/reference

test: venv neo4j
	$(BIN)/python -m pytest -n 2 --dist loadfile

clean:
	rm -rf runs .pytest_cache
