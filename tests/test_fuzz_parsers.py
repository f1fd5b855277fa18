"""Fuzzing the screen and network parsers with malformed lines (hypothesis).

Strict mode: a mutated file either parses or raises a SourceError that names the file and a
line; never another exception. Quarantine mode: every data line ends up as exactly one of a
record, a quarantined row or an unscored row, so nothing is dropped silently.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from torchcell.errors import SourceError
from torchcell.paths import SAMPLE_DIR
from torchcell.sources import costanzo2016, interactions, kuzmin, sgd
from torchcell.sources.table import Rejects

HEAD = 25
GENES = sgd.parse_genes(SAMPLE_DIR / "SGD_features.tab")

junk = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\n\r"), max_size=12
)
mutation = st.tuples(
    st.integers(min_value=0, max_value=HEAD - 1),
    st.sampled_from(
        ["replace_field", "drop_field", "add_field", "truncate", "blank_field", "append"]
    ),
    st.integers(min_value=0, max_value=20),
    junk,
)


def mutate(lines: list[str], separator: str, edits) -> list[str]:
    lines = list(lines)
    for index, kind, position, text in edits:
        fields = lines[index].split(separator)
        at = position % len(fields)
        if kind == "replace_field":
            fields[at] = text
        elif kind == "drop_field":
            del fields[at]
        elif kind == "add_field":
            fields.insert(at, text)
        elif kind == "blank_field":
            fields[at] = ""
        elif kind == "truncate":
            lines[index] = lines[index][: position % max(len(lines[index]), 1)]
            continue
        else:
            fields[-1] += text
        lines[index] = separator.join(fields)
    return lines


def write(tmp: Path, name: str, header: list[str], body: list[str]) -> Path:
    path = tmp / name
    path.write_text("\n".join([*header, *body]) + "\n", encoding="utf-8")
    return path


def data_lines(path: Path, header: bool) -> int:
    lines = [ln for ln in path.read_text(encoding="utf-8").split("\n") if ln.strip()]
    return len(lines) - (1 if header else 0)


CASES = {
    "sga": (SAMPLE_DIR / "SGA_sample_GENERATED.txt", True, "\t", costanzo2016.parse_double_mutants),
    "smf": (SAMPLE_DIR / "strain_ids_and_single_mutant_fitness.tsv", True, "\t", costanzo2016.parse_single_mutants),
    "trigenic": (SAMPLE_DIR / "Kuzmin2018_TableS1_GENERATED.txt", True, "\t", kuzmin.parse_trigenic),
    "physical": (
        SAMPLE_DIR / "physical_BIM.txt", False, " ",
        lambda p, rejects: interactions.parse_physical(p, "BIM", GENES, rejects=rejects),
    ),
}  # fmt: skip


def check(case: str, edits, tmp_path_factory) -> None:
    source, has_header, separator, parse = CASES[case]
    lines = source.read_text(encoding="utf-8").split("\n")
    header, body = (lines[:1], lines[1 : HEAD + 1]) if has_header else ([], lines[:HEAD])
    path = write(tmp_path_factory.mktemp(case), source.name, header, mutate(body, separator, edits))
    try:
        parse(path, rejects=Rejects())
    except SourceError as err:
        assert err.path == path and err.line is not None and f"line {err.line}" in str(err)
    rejects = Rejects(quarantine=True)
    result = parse(path, rejects=rejects)
    rejected = {line for _, line, _, _ in rejects.rows}
    if hasattr(result, "experiments"):
        # A line gives one experiment, or two for a strain measured at 26 °C and 30 °C.
        kept, unscored = set(result.experiments["_line"].to_list()), result.unscored
    else:
        kept = result.relationships["PHYSICAL"].height + sum(result.notes.values())
        assert kept + len(rejected) == data_lines(path, has_header)
        return
    if case == "trigenic":
        # A line's strain fitness columns may be stored although its score was rejected or
        # unscored, so a line can be both kept and rejected, or unscored and kept.
        assert 0 <= data_lines(path, has_header) - len(kept | rejected) <= unscored
    else:
        assert len(kept) + len(rejected) + unscored == data_lines(path, has_header)


FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@pytest.mark.parametrize("case", sorted(CASES))
@FUZZ
@given(edits=st.lists(mutation, min_size=1, max_size=4))
def test_fuzzed_lines_give_clear_errors_and_lose_nothing(case, edits, tmp_path_factory):
    check(case, edits, tmp_path_factory)
