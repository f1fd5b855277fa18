"""Output of the public SGA / τ-SGA scoring pipeline (SGA_Public, Myers and Boone labs).

The SGA score is Baryshnikova et al., Nat Methods 7:1017 (2010); τ-SGA, Kuzmin et al. 2018.

* The τ-SGA screen (``print_trigenic`` output, ``scored_*trigenic*.txt``), tab with a header:
  query strain, array strain, the adjusted score (ε for digenic, τ for trigenic rows), its
  P-value, and the double/triple-mutant fitness with its SD. Queries are double-mutant strains
  ``ORF1+ORF2_tmN``; ``+YDL227C`` (hoΔ, the neutral control) makes a row digenic.
* Single-mutant fitness tables, tab, no header: strain, fitness, SD (``NaN`` = not measured):
  ``smf_t26_*.txt`` / ``smf_t30_*.txt`` (the SGA collection at 26 / 30 °C, dataset
  ``sga_public_smf``) and ``smf_DmQueryStd_*.tsv`` (the fitness the scoring used for this
  screen's array and query strains, single and double mutants: dataset ``sga_public_trigenic``,
  beside the screen, so the trigenic null has its singles and the queries' double mutants).

Strain ids are ``<ORF>_<tag><n>`` (tags as Costanzo 2016, plus ``tm`` for query strains, a
deletion) or ``<ORF>+<ORF>_tm<n>``. These files name no alleles, so a non-deletion allele is
identified by its strain id (two ts strains of one gene stay two genotypes unless they are one
strain). A strain of hoΔ alone is the neutral reference, not a mutant, and is not loaded. The
screen gives no temperature; it is taken as 30 °C, as in Kuzmin's Table S1.

These values are a re-scoring of a test subset by the public pipeline (real colonies, not
identical to the published Kuzmin Data S1 numbers).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from torchcell.schema import Dataset
from torchcell.sources.catalog import Source, SourceFiles
from torchcell.sources.costanzo2016 import MEDIA, MISSING, TAG_KINDS
from torchcell.sources.experiments import (
    ExperimentTables,
    Side,
    experiment_tables,
    measured,
    with_environment,
)
from torchcell.sources.kuzmin import HO
from torchcell.sources.table import STRICT, Rejects, check_pattern, read_table, require

SCREEN = Dataset(
    name="sga_public_trigenic", doi="10.1126/science.aao1729", version="SGA_Public test output"
)
SINGLES = Dataset(
    name="sga_public_smf", doi="10.1038/nmeth.1534", version="SGA_Public refdata 150803"
)
TEMPERATURE = 30.0
KINDS = {**TAG_KINDS, "tm": "deletion"}
GENE = r"[A-Za-z0-9\-]+"
STRAIN = rf"^({GENE})(?:\+({GENE}))?_({'|'.join(KINDS)})(\d+)$"
SCREEN_COLUMNS = [
    "Query Strain ID",
    "Array Strain ID",
    "Adjusted genetic interaction score (epsilon or tau)",
    "P-value",
    "Double/triple mutant fitness",
    "Double/triple mutant fitness standard deviation",
]
FITNESS_COLUMNS = ["Strain ID", "fitness", "fitness standard deviation"]


def add_strain(
    table: pl.DataFrame, column: str, prefix: str, path: Path, rejects: Rejects
) -> pl.DataFrame:
    """``<prefix>1_gene``, ``<prefix>2_gene`` (null for hoΔ or none), kind and allele columns."""
    table = require(table, column, path, rejects)
    table = check_pattern(
        table, column, STRAIN, path, "a strain id like YAL002W_dma23 or YAL015C+YDL227C_tm461",
        rejects,
    )  # fmt: skip
    second = pl.col(column).str.extract(STRAIN, 2)
    kind = pl.col(column).str.extract(STRAIN, 3).replace_strict(KINDS)
    return table.with_columns(
        pl.col(column).str.extract(STRAIN, 1).alias(f"{prefix}1_gene"),
        pl.when(second == HO).then(None).otherwise(second).alias(f"{prefix}2_gene"),
        kind.alias(f"{prefix}_kind"),
        pl.when(kind == "deletion").then(None).otherwise(pl.col(column)).alias(f"{prefix}_allele"),
    )


def _sides(prefix: str, column: str) -> list[Side]:
    return [
        Side(f"{prefix}{i}_gene", f"{prefix}_kind", f"{prefix}_allele", column, column)
        for i in (1, 2)
    ]


def parse_screen(
    path: Path, rejects: Rejects = STRICT, rows: tuple[int, int] | None = None
) -> ExperimentTables:
    """One digenic (hoΔ query) or trigenic experiment per scored row."""
    table = read_table(
        path, SCREEN_COLUMNS, header="\t".join(SCREEN_COLUMNS), rejects=rejects, rows=rows
    )
    table = add_strain(table, "Query Strain ID", "q", path, rejects)
    table = add_strain(table, "Array Strain ID", "a", path, rejects)
    labels = {
        "Adjusted genetic interaction score (epsilon or tau)": "gene_interaction",
        "P-value": "gene_interaction_p_value",
        "Double/triple mutant fitness": "fitness",
        "Double/triple mutant fitness standard deviation": "fitness_std",
    }
    table, unscored = measured(table, labels, path, rejects, MISSING)
    table = with_environment(table, SCREEN.name, MEDIA, TEMPERATURE)
    sides = [*_sides("q", "Query Strain ID"), _sides("a", "Array Strain ID")[0]]
    return experiment_tables(table, sides, path, rejects, unscored)


def parse_strain_fitness(
    path: Path,
    dataset: Dataset,
    temperature: float,
    rejects: Rejects = STRICT,
    rows: tuple[int, int] | None = None,
) -> ExperimentTables:
    """A headerless ``strain, fitness, SD`` table: one experiment per measured strain."""
    table = read_table(path, FITNESS_COLUMNS, rejects=rejects, rows=rows)
    table = add_strain(table, "Strain ID", "s", path, rejects)
    control = (pl.col("s1_gene") == HO) & pl.col("s2_gene").is_null()
    controls = table.filter(control).height
    table = table.filter(~control)
    labels = {"fitness": "fitness", "fitness standard deviation": "fitness_std"}
    table, unscored = measured(table, labels, path, rejects, MISSING)
    table = with_environment(table, dataset.name, MEDIA, temperature).with_columns(
        pl.lit(None, pl.Float64).alias("gene_interaction"),
        pl.lit(None, pl.Float64).alias("gene_interaction_p_value"),
    )
    tables = experiment_tables(table, _sides("s", "Strain ID"), path, rejects, unscored)
    tables.notes[f"{path.name}: hoΔ control strains (the reference) not loaded"] = controls
    return tables


def _screens(files: SourceFiles, rows: tuple[int, int] | None) -> list[ExperimentTables]:
    screen, t26, t30, used = files.paths
    return [
        *(parse_screen(p, files.rejects, rows) for p in screen),
        *(parse_strain_fitness(p, SINGLES, 26.0, files.rejects, rows) for p in t26),
        *(parse_strain_fitness(p, SINGLES, 30.0, files.rejects, rows) for p in t30),
        *(parse_strain_fitness(p, SCREEN, TEMPERATURE, files.rejects, rows) for p in used),
    ]


SOURCE = Source(
    "sga_pipeline",
    ("scored_*trigenic*.txt*", "smf_t26_*.txt*", "smf_t30_*.txt*", "smf_DmQueryStd_*.tsv*"),
    (None, None, None, None), "SGA_Public test output and refdata (commit e130d374)",
    "Baryshnikova et al., Nat Methods 7:1017 (2010) (SGA score); Kuzmin et al., Science 360:eaao1729 (2018) (τ-SGA)",
    "no license stated; cite the papers", home="https://github.com/csbio/SGA_Public",
    screens=_screens, requires=(), datasets=(SCREEN, SINGLES), scale="sga",
)  # fmt: skip
