"""Real interaction data and genotype identity, on real rows of the bundled sample.

The sample's E-MAP, SGA_Public, Costanzo 2010 and STRING files are cut from the published
files (pipeline/sample/PROVENANCE.md); counts are recomputed here with plain Python.
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from pydantic import ValidationError

from torchcell.errors import TorchCellError
from torchcell.graphdb.build import plan_build
from torchcell.graphdb.stats import graph_counts
from torchcell.paths import PIPELINE, SAMPLE_DIR
from torchcell.schema import Environment, Experiment, Perturbation, genotype_key
from torchcell.sources import costanzo2010, costanzo2016, emap, sga_pipeline, sgd, string_actions
from torchcell.store.replicates import merge
from torchcell.store.spec import DatasetSpec

from conftest import run_tc
from sample_counts import costanzo2010_counts, expected_counts, sga_pipeline_counts, string_links

FIXTURES = Path(__file__).parent / "fixtures"
SMF = SAMPLE_DIR / "strain_ids_and_single_mutant_fitness.tsv"
EMAP = SAMPLE_DIR / "emap_schuldiner2005_Sscore_matrix.tsv"
SCREEN = SAMPLE_DIR / "scored_triple_test_small_trigenic.txt"


def test_cdc24_alleles_stay_distinct_and_tsa_tsq_copies_of_one_allele_merge():
    """Costanzo 2016: 13 CDC24 (YAL041W) strains of 7 ts alleles; tsa148 and tsq148 are both
    cdc24-11. Before, all 13 were one (gene, kind, temperature) genotype."""
    tables = costanzo2016.parse_single_mutants(SMF)
    cdc24 = tables.experiments.filter(
        pl.col("genotype").str.starts_with("YAL041W:") & (pl.col("temperature") == 30.0)
    )
    assert cdc24.height == 13
    groups = Counter(cdc24["genotype"].to_list())
    assert len(groups) == 7, sorted(groups)
    assert groups["YAL041W:temperature_sensitive:cdc24-11@SGA@30C"] == 2
    assert groups["YAL041W:temperature_sensitive:cdc24-3@SGA@30C"] == 2
    merged = cdc24.filter(pl.col("genotype") == "YAL041W:temperature_sensitive:cdc24-11@SGA@30C")
    mean = merge(["fitness"], merged.select("fitness").to_dicts())[0]
    assert mean == pytest.approx(0.5439), "the two copies of one allele carry one measurement"
    low, high = cdc24["fitness"].min(), cdc24["fitness"].max()
    assert (low, high) == (0.5439, 0.9207), "distinct alleles keep their own fitness"


def test_the_schema_and_the_parsers_agree_on_allele_identity():
    record = Experiment(
        dataset="d",
        environment=Environment(media="SGA", temperature=26),
        perturbations=[
            Perturbation(gene="YAL041W", kind="temperature_sensitive", allele="CDC24-3"),
            Perturbation(gene="YAL001C", kind="deletion", allele="tfc3Δ"),
        ],
        fitness=0.9,
    )
    assert record.genotype == "YAL001C:deletion;YAL041W:temperature_sensitive:cdc24-3@SGA@26C"
    assert genotype_key([("YAL001C", "deletion", "other name")], "SGA@26C") == (
        "YAL001C:deletion@SGA@26C"
    ), "a deletion's allele is the gene, whatever the strain calls it"


def test_opposite_replicate_scores_do_not_combine_to_a_small_p():
    """Two real digenic rows of the SGA_Public screen with ε of opposite sign and p < 0.05,
    merged as if replicates: Fisher's method gave p ≈ 0.003; the signed combination does not."""
    rows = pl.read_csv(SCREEN, separator="\t")
    score, p = "Adjusted genetic interaction score (epsilon or tau)", "P-value"
    strong = rows.filter(pl.col(p) < 0.05)
    plus = strong.filter(pl.col(score) > 0.05).row(0, named=True)
    minus = strong.filter(pl.col(score) < -0.05).row(0, named=True)
    replicates = [
        {"gene_interaction": r[score], "gene_interaction_p_value": r[p]} for r in (plus, minus)
    ]
    labels = ["gene_interaction", "gene_interaction_p_value"]
    combined = merge(labels, replicates)[1]
    assert combined > max(plus[p], minus[p]), (plus[p], minus[p], combined)
    same_sign = merge(labels, [replicates[0], replicates[0]])[1]
    assert same_sign < plus[p]


def test_emap_matrix_gives_each_measured_pair_once_with_its_alleles():
    alleles = emap.parse_alleles(SAMPLE_DIR / "emap_schuldiner2005_alleles.tsv")
    tables = emap.parse_matrix(EMAP, alleles)
    assert tables.experiments.height == expected_counts()["emap"]
    assert tables.experiments["fitness"].is_null().all()
    assert tables.experiments["gene_interaction"].is_null().all(), "S-scores are not ε"
    lines = EMAP.read_text().splitlines()
    header = lines[0].split("\t")
    first = lines[1].split("\t")
    j = next(i for i, v in enumerate(first[1:], 1) if v != "NA" and header[i] != first[0])
    pair = sorted([first[0], header[j]])
    genes = tables.perturbations.group_by("experiment_id").agg(pl.col("gene").sort())
    hit = genes.filter(pl.col("gene") == pl.lit(pair)).join(
        tables.experiments, left_on="experiment_id", right_on="id"
    )
    assert hit["emap_score"].to_list() == [float(first[j])]
    damp = set(alleles.filter(pl.col("kind") == "damp")["gene"])
    kinds = tables.perturbations.filter(pl.col("gene").is_in(list(damp)))["kind"].unique()
    assert damp and kinds.to_list() == ["damp"], "essential genes are DAmP alleles here"
    shards = [emap.parse_matrix(EMAP, alleles, rows=(i, 3)) for i in range(3)]
    assert sum(t.experiments.height for t in shards) == tables.experiments.height
    ids = pl.concat([t.experiments["id"] for t in shards])
    assert ids.n_unique() == ids.len(), "row shards hold every pair once"


def test_emap_without_allele_table_says_every_gene_is_a_deletion():
    tables = emap.parse_matrix(EMAP)
    assert set(tables.perturbations["kind"]) == {"deletion"}
    assert tables.notes["emap_schuldiner2005: no allele table, every gene taken as a deletion"]


def test_sga_pipeline_screen_and_fitness_tables():
    counts = sga_pipeline_counts()
    screen = sga_pipeline.parse_screen(SCREEN)
    sizes = screen.perturbations.group_by("experiment_id").len()["len"].value_counts()
    assert dict(sizes.iter_rows()) == {2: counts["digenic"], 3: counts["trigenic"]}
    assert "YDL227C" not in set(screen.perturbations["gene"]), "hoΔ is the control"
    fitness = [
        sga_pipeline.parse_strain_fitness(SAMPLE_DIR / name, dataset, t)
        for name, dataset, t in (
            ("smf_t26_150803.txt", sga_pipeline.SINGLES, 26.0),
            ("smf_t30_150803.txt", sga_pipeline.SINGLES, 30.0),
            ("smf_DmQueryStd_MiniArray_180208.tsv", sga_pipeline.SCREEN, 30.0),
        )
    ]
    n = sum(t.experiments.height for t in fitness)
    assert n == counts["singles"] + counts["doubles"]
    ts = fitness[1].perturbations.filter(pl.col("kind") == "temperature_sensitive")
    assert (ts["allele"] == ts["strain"]).all(), "no allele names here: the strain is the allele"


def test_costanzo2010_raw_layout_pairs_and_strain_fitness():
    counts = costanzo2010_counts()
    tables = costanzo2010.parse_pairwise(
        SAMPLE_DIR / "sgadata_costanzo2009_rawdata_101120_sample.txt"
    )
    assert tables.experiments.height == counts["experiments"]
    pairs = tables.experiments.filter(pl.col("gene_interaction").is_not_null())
    assert pairs.height == counts["pairs"]
    first = pairs.row(0, named=True)
    line = (SAMPLE_DIR / "sgadata_costanzo2009_rawdata_101120_sample.txt").read_text()
    fields = line.splitlines()[first["_line"] - 1].split("\t")
    assert first["gene_interaction"] == float(fields[4])
    assert first["fitness"] == float(fields[11]) and first["fitness_std"] == float(fields[12])


def test_string_actions_one_link_per_pair_and_mode():
    genes = sgd.parse_genes(SAMPLE_DIR / "SGD_features.tab")
    part = string_actions.parse_actions(SAMPLE_DIR / "4932.protein.actions.v11.0_sample.txt", genes)
    links = part.relationships["STRING"]
    assert links.height == string_links()
    assert (links["start"] < links["end"]).all()
    assert set(links["mode"]) <= set(string_actions.MODES)
    assert links["score"].is_between(0, 1).all()
    assert {"forward", "both", "none"} <= set(links["direction"])


def test_a_spec_that_mixes_interaction_scales_is_an_error():
    base = DatasetSpec.from_yaml(PIPELINE / "datasets/emap_schuldiner2005_sample.yaml")
    with pytest.raises(ValidationError, match="mix"):
        DatasetSpec.model_validate(
            {**base.model_dump(), "datasets": ["emap_schuldiner2005", "costanzo2016_dmf"]}
        )
    with pytest.raises(ValidationError, match="mix"):
        DatasetSpec.model_validate(
            {**base.model_dump(), "labels": ["emap_score", "gene_interaction"]}
        )


def test_a_source_needs_only_the_files_it_cannot_do_without(tmp_path):
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(SAMPLE_DIR / "SGD_features.tab", folder)
    shutil.copy(SAMPLE_DIR / "gene_association.sgd", folder)
    with pytest.raises(TorchCellError, match="gene_association.sgd but not gene_ontology.obo"):
        plan_build(folder)
    (folder / "gene_association.sgd").unlink()
    shutil.copy(SAMPLE_DIR / "emap_schuldiner2005_Sscore_matrix.tsv", folder)
    plan = plan_build(folder)
    assert plan.missing == {"emap": [emap.ALLELES]}


def _workbook_counts(genome: set[str]) -> int:
    sheet = openpyxl.load_workbook(FIXTURES / "strain_ids_and_single_mutant_fitness.xlsx").active
    rows = list(sheet.iter_rows(values_only=True))[1:]
    return sum(
        (r[3] not in (None, "NaN")) + (r[5] not in (None, "NaN")) for r in rows if r[1] in genome
    )


def test_train_on_real_emap_scores_with_pair_nulls(sample_graph, tmp_path):
    """The real E-MAP sample end to end: materialized as emap_score only, trained on held-out
    pairs, scored beside the nulls that make sense without fitness (no multiplicative null)."""
    spec = PIPELINE / "datasets/emap_schuldiner2005_sample.yaml"
    run_tc("materialize-dataset", str(spec), "--out", str(tmp_path / "emap"))
    manifest = json.loads((tmp_path / "emap" / "manifest.json").read_text())
    assert manifest["count"] == expected_counts()["emap"] and manifest["labels"] == ["emap_score"]
    config = tmp_path / "emap.yaml"
    config.write_text(
        (PIPELINE / "train/demo.yaml")
        .read_text()
        .replace("labels: [fitness, gene_interaction]", "labels: [emap_score]")
    )
    run_tc(
        "train", str(config), "--dataset", str(tmp_path / "emap"), "--out", str(tmp_path / "run"),
        "--model", "gene_set", "--epochs", "1", "--split", "held_out_pairs", "--no-progress",
    )  # fmt: skip
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert set(metrics["baselines"]) == {
        "mean",
        "additive ridge",
        "low-rank pairs",
        "gene-feature ridge",
        "GO neighbours",
        "gene-feature boosting",
    }
    assert metrics["test"]["emap_score"]["n"] > 0


def test_demo_trains_on_the_real_sga_pipeline_scores(sample_graph, tmp_path):
    """`make demo`'s dataset and config: the sample's real τ-SGA output materialized, every
    scored triple of the screen file in it with its τ (replicate strains of one genotype merged
    by their mean, so the record's τ lies within the file's values), then the demo's model."""
    from torchcell.cell.dataset import CellDataset

    out = tmp_path / "sga"
    run_tc(
        "materialize-dataset",
        str(PIPELINE / "datasets/sga_public_trigenic.yaml"),
        "--out",
        str(out),
    )
    data = CellDataset(out)
    tau = data.labels.index("gene_interaction")
    records: dict[frozenset[str], list[float]] = {}
    for i in range(data.len()):
        r = data.record(i)
        if len(r.genes) == 3 and r.labels[tau] is not None:
            records.setdefault(frozenset(data.genes[g] for g in r.genes), []).append(r.labels[tau])
    scored: dict[frozenset[str], list[float]] = {}
    for row in SCREEN.read_text().splitlines()[1:]:
        query, array, score = row.split("\t")[:3]
        genes = [s.rsplit("_", 1)[0] for s in (*query.split("+"), array)]
        if "YDL227C" not in genes and score != "NaN":
            scored.setdefault(frozenset(genes), []).append(float(score))
    assert len(scored) > 500 and set(records) == set(scored)
    for genes, values in records.items():
        assert all(min(scored[genes]) <= v <= max(scored[genes]) for v in values), genes
    run_tc(
        "train", str(PIPELINE / "train/demo.yaml"), "--dataset", str(out),
        "--out", str(tmp_path / "run"), "--epochs", "1", "--no-progress",
    )  # fmt: skip
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert metrics["test_by_size"]["3"]["gene_interaction"]["n"] > 0


def test_build_from_only_the_single_mutant_workbook(empty_graph, tmp_path):
    """The Costanzo 2016 workbook without any SGA_*.txt loads its experiments (the failure it guards against: the
    whole source was skipped) and the build names the file it did not find."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(FIXTURES / "SGD_features.tab.gz", folder)
    shutil.copy(FIXTURES / "strain_ids_and_single_mutant_fitness.xlsx", folder)
    result = run_tc(
        "build-db", "--source-dir", str(folder), "--out", str(tmp_path / "b"), "--quarantine"
    )  # fmt: skip
    assert "costanzo2016 loaded without SGA_*.txt*" in result.stdout
    genome = set(sgd.parse_genes(folder / "SGD_features.tab.gz")["id"])
    counts = graph_counts(empty_graph, "neo4j")
    assert counts.nodes["Experiment"] == _workbook_counts(genome) == 20_410


def test_a_header_only_screen_file_is_reported(tmp_path):
    from torchcell.graphdb.build import build_shard, finalize

    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(SAMPLE_DIR / "SGD_features.tab", folder)
    header = (SAMPLE_DIR / "SGA_sample_GENERATED.txt").read_text().splitlines()[0]
    (folder / "SGA_empty.txt").write_text(header + "\n")
    plan_build(folder).write(tmp_path / "b")
    for i in range(2):
        build_shard(tmp_path / "b", i, 2)
    notes = finalize(tmp_path / "b", 2).notes
    assert (
        notes["screen file(s) with no data rows (header only?), nothing loaded: SGA_empty.txt"] == 1
    )
