"""TorchCell: public yeast genetics -> Neo4j knowledge graph -> LMDB datasets -> GNNs.

The stages, each a subpackage that only imports the ones before it:
``schema`` -> ``sources`` -> ``graphdb`` -> ``store`` -> ``cell`` -> ``models`` -> ``train`` -> ``cli``.
"""

__version__ = "0.1.0"
