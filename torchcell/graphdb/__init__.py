"""Neo4j: connection settings, the local server, constraints, the loader and counts."""
