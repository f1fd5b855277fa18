"""One module per public source: where it lives and how its real file format parses.

Parsers return polars frames in the layouts of ``torchcell.sources.experiments`` (screens) and
``torchcell.sources.sgd.GENE_COLUMNS`` (the genome), checked column-wise and, on a sample, against
the pydantic schema.
"""
