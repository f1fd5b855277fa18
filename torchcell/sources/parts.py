"""What a non-screen source contributes to the graph: node and relationship frames.

Node frames have an ``id`` column plus properties; relationship frames have ``start`` and
``end`` (the ids of the two nodes) plus properties. ``notes`` counts rows a source leaves out
on purpose (for example negated GO annotations), so the build can report them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl


@dataclass
class GraphPart:
    nodes: dict[str, pl.DataFrame] = field(default_factory=dict)
    relationships: dict[str, pl.DataFrame] = field(default_factory=dict)
    notes: dict[str, int] = field(default_factory=dict)
    obsolete: list[str] = field(default_factory=list)
    """Ids a source retired (obsolete GO terms), for the sources that refer to them."""
