"""Cypher the graph statistics read (the online loader builds its statements from
``torchcell.graphdb.model``, in ``online.py``)."""

LABEL_COUNTS = "CALL db.labels() YIELD label RETURN label ORDER BY label"
REL_TYPES = "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType ORDER BY relationshipType"
