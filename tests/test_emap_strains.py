"""E-MAPs whose unit is the strain: one gene in several rows or columns, queries × arrays.

The fixtures are GENERATED S-scores in the published layout (tests/fixtures/README.md): a
square matrix that screens a deletion and a DAmP allele of ROX3 (YBL093C), four alleles of the
essential POL30 (YBR088C), a strain labelled YJL168C that lacks its neighbour YJL169W, and the
2-micron plasmid gene REP1; and a 3 × 5 queries × arrays matrix with its two allele tables.
Expected values are read from the fixture files with plain Python, not with the parser.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

from torchcell.errors import SourceError
from torchcell.paths import SAMPLE_DIR
from torchcell.sources import emap

from conftest import run_tc

FIXTURES = Path(__file__).parent / "fixtures"

SQUARE = FIXTURES / "emap_strains_GENERATED_Sscore_matrix.tsv"
SQUARE_ALLELES = FIXTURES / "emap_strains_GENERATED_alleles.tsv"
WIDE = FIXTURES / "emap_queries_GENERATED_Sscore_matrix.tsv"
WIDE_QUERIES = FIXTURES / "emap_queries_GENERATED_query_alleles.tsv"
WIDE_ARRAYS = FIXTURES / "emap_queries_GENERATED_array_alleles.tsv"


def _rows(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text().splitlines()]


def _square() -> emap.ExperimentTables:
    return emap.parse_matrix(SQUARE, emap.parse_alleles(SQUARE_ALLELES))


def _strain_pairs(tables: emap.ExperimentTables) -> pl.DataFrame:
    """Each experiment's two (gene, kind, allele) strains, sorted, with its score."""
    strain = pl.concat_str(
        [pl.col("gene"), pl.col("kind"), pl.col("allele").fill_null("")], separator=":"
    )
    sides = tables.perturbations.group_by("experiment_id").agg(strain.sort().alias("strains"))
    return sides.join(tables.experiments, left_on="experiment_id", right_on="id")


def _score(tables: emap.ExperimentTables, a: str, b: str) -> float:
    hits = _strain_pairs(tables).filter(pl.col("strains") == pl.lit(sorted([a, b])))
    assert hits.height == 1, (a, b, hits)
    return hits["emap_score"][0]


def _cell_mean(matrix: list[list[str]], i: int, j: int) -> float:
    values = [float(v) for v in (matrix[i + 1][j + 1], matrix[j + 1][i + 1]) if v != "NA"]
    return sum(values) / len(values)


def test_one_gene_as_deletion_and_damp_gives_two_genotypes():
    tables = _square()
    rox3 = tables.perturbations.filter(pl.col("gene") == "YBL093C")
    assert sorted(set(zip(rox3["kind"], rox3["allele"], strict=True)), key=str) == [
        ("damp", "YBL093C-damp"),
        ("deletion", None),
    ]
    matrix = _rows(SQUARE)
    # columns 3 and 4 are ROX3's deletion and DAmP strains; YIL044C is column 0
    deletion = _score(tables, "YIL044C:deletion:", "YBL093C:deletion:")
    damp = _score(tables, "YIL044C:deletion:", "YBL093C:damp:YBL093C-damp")
    assert (deletion, damp) == (_cell_mean(matrix, 0, 3), _cell_mean(matrix, 0, 4))
    genotypes = tables.experiments.filter(
        pl.col("genotype").str.contains("YBL093C") & pl.col("genotype").str.contains("YIL044C")
    )["genotype"]
    assert genotypes.n_unique() == 2, "two strains of one gene never merge"


def test_four_alleles_of_one_essential_gene_give_four_genotypes():
    tables = _square()
    pol30 = tables.perturbations.filter(pl.col("gene") == "YBR088C")
    assert set(pol30["allele"]) == {"POL30-79", "POL30-8", "POL30-819", "YBR088C-damp"}
    assert set(pol30["kind"]) == {"allele", "damp"}
    with_yor067c = _strain_pairs(tables).filter(
        pl.col("strains").list.contains("YOR067C:deletion:")
        & pl.col("strains").list.join(";").str.contains("YBR088C")
    )
    assert with_yor067c["genotype"].n_unique() == 4
    # a pair of two strains of one gene is no double mutant of two genes: counted, not loaded
    matrix = _rows(SQUARE)
    labels = matrix[0][1:]
    same_gene = sum(
        1
        for i in range(len(labels))
        for j in range(i + 1, len(labels))
        if labels[i] == labels[j] and {matrix[i + 1][j + 1], matrix[j + 1][i + 1]} != {"NA"}
    )
    assert same_gene == 6  # the fixture: 1 of ROX3 + 6 of POL30, one of them untested
    assert tables.notes["emap_strains_GENERATED: pairs of two strains of one gene, not loaded"] == 6
    per_experiment = tables.perturbations.group_by("experiment_id").agg(pl.col("gene").n_unique())
    assert (per_experiment["gene"] == 2).all()


def test_every_measured_pair_of_strains_loads_once():
    tables = _square()
    matrix = _rows(SQUARE)
    labels = matrix[0][1:]
    lacks = {"YJL168C": "YJL169W"}  # the fixture's `delta yjl169w` strain
    expected = sum(
        1
        for i in range(len(labels))
        for j in range(i + 1, len(labels))
        if lacks.get(labels[i], labels[i]) != lacks.get(labels[j], labels[j])
        and {matrix[i + 1][j + 1], matrix[j + 1][i + 1]} != {"NA"}
    )
    assert tables.experiments.height == expected == 44
    assert tables.experiments["id"].n_unique() == expected
    shards = [emap.parse_matrix(SQUARE, emap.parse_alleles(SQUARE_ALLELES), rows=(i, 3)) for i in range(3)]  # fmt: skip
    ids = pl.concat([t.experiments["id"] for t in shards])
    assert ids.len() == ids.n_unique() == expected, "row shards hold every pair once"


def test_an_allele_naming_another_orf_perturbs_that_orf():
    alleles = emap.parse_alleles(SQUARE_ALLELES)
    neighbour = alleles.filter(pl.col("label") == "YJL168C")
    assert neighbour.select("gene", "kind", "allele").rows() == [("YJL169W", "deletion", None)]
    tables = _square()
    assert "YJL168C" not in set(tables.perturbations["gene"]), "the labelled gene is not touched"
    matrix = _rows(SQUARE)
    assert _score(tables, "YIL044C:deletion:", "YJL169W:deletion:") == _cell_mean(matrix, 0, 9)


def test_a_repeated_label_without_an_allele_table_is_refused_naming_it():
    with pytest.raises(SourceError, match=r"YBL093C, YBR088C appear more than once") as err:
        emap.parse_matrix(SQUARE)
    assert "emap_strains_GENERATED_alleles.tsv" in str(err.value), "it says what to add"
    keyed = emap.parse_alleles(SQUARE_ALLELES).unique("label", keep="first", maintain_order=True)
    with pytest.raises(SourceError, match=r"one line per matrix column, in matrix order"):
        emap.parse_matrix(SQUARE, keyed)


def test_a_query_by_array_matrix_loads_its_15_pairs():
    tables = emap.parse_matrix(
        WIDE, emap.parse_alleles(WIDE_QUERIES), array_alleles=emap.parse_alleles(WIDE_ARRAYS)
    )
    matrix = _rows(WIDE)
    assert tables.experiments.height == 15 == (len(matrix) - 1) * (len(matrix[0]) - 1)
    assert _score(tables, "YBR088C:allele:POL30-79", "YGR261C:deletion:") == float(matrix[1][5])
    assert _score(tables, "YBL093C:damp:YBL093C-damp", "YPL227C:deletion:") == float(matrix[2][1])
    assert _score(tables, "YIL044C:deletion:", "YOR067C:deletion:") == float(matrix[3][2])


def test_build_loads_strains_as_genotypes_and_quarantines_non_genes(empty_graph, tmp_path):
    """Through the real build: the strains' genotypes in Neo4j; pairs with the 2-micron REP1
    and with YJL169W (not in the bundled sample's genome) quarantined with their reason."""
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(SAMPLE_DIR / "SGD_features.tab", folder)
    for path in (SQUARE, SQUARE_ALLELES, WIDE, WIDE_QUERIES, WIDE_ARRAYS):
        shutil.copy(path, folder)
    result = run_tc(
        "build-db", "--source-dir", str(folder), "--out", str(tmp_path / "b"), "--quarantine"
    )  # fmt: skip
    assert "pairs of two strains of one gene, not loaded" in result.stdout
    quarantined = pl.read_csv(next((tmp_path / "b").rglob("quarantine*.tsv")), separator="\t")
    problems = " ".join(quarantined["problem"])
    assert "REP1" in problems and "YJL169W" in problems
    with empty_graph.session() as session:
        rows = session.run(
            "MATCH (d:Dataset)<-[:IN_DATASET]-(e:Experiment) RETURN d.name AS d, count(e) AS n"
        ).data()
        pol30 = session.run(
            "MATCH (e:Experiment)-[p:PERTURBS]->(:Gene {id: 'YBR088C'}) "
            "RETURN count(DISTINCT e.genotype) AS genotypes, collect(DISTINCT p.allele) AS alleles"
        ).single()
    counts = {r["d"]: r["n"] for r in rows}
    # the 44 pairs less those of REP1 and of the YJL169W strain, counted from the file
    matrix = _rows(SQUARE)
    labels = matrix[0][1:]
    kept = sum(
        1
        for i in range(len(labels))
        for j in range(i + 1, len(labels))
        if labels[i] != labels[j]
        and not {labels[i], labels[j]} & {"REP1", "YJL168C"}
        and {matrix[i + 1][j + 1], matrix[j + 1][i + 1]} != {"NA"}
    )
    assert counts == {"emap_strains_GENERATED": kept, "emap_queries_GENERATED": 15}
    assert set(pol30["alleles"]) == {"POL30-79", "POL30-8", "POL30-819", "YBR088C-damp"}
    assert pol30["genotypes"] > 4
