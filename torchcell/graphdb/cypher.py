"""The Cypher statements of the online loader: one batched ``UNWIND`` write per record kind.

Every statement MERGEs on the unique id, so loading the same rows twice changes nothing.
"""

GENES = """
UNWIND $rows AS r
MERGE (g:Gene {id: r.id})
SET g.name = r.name, g.feature_type = r.feature_type, g.qualifier = r.qualifier,
    g.chromosome = r.chromosome, g.start = r.start, g.end = r.end, g.strand = r.strand,
    g.aliases = r.aliases
"""

DATASETS = """
UNWIND $rows AS r
MERGE (d:Dataset {name: r.name})
SET d.doi = r.doi, d.version = r.version
"""

ENVIRONMENTS = """
UNWIND $rows AS r
MERGE (v:Environment {id: r.id})
SET v.media = r.media, v.temperature = r.temperature
"""

EXPERIMENTS = """
UNWIND $rows AS r
MATCH (d:Dataset {name: r.dataset})
MATCH (v:Environment {id: r.environment_id})
MERGE (e:Experiment {id: r.id})
SET e.fitness = r.fitness, e.fitness_std = r.fitness_std,
    e.gene_interaction = r.gene_interaction, e.gene_interaction_p_value = r.gene_interaction_p_value
MERGE (e)-[:IN_DATASET]->(d)
MERGE (e)-[:UNDER]->(v)
"""

PERTURBATIONS = """
UNWIND $rows AS r
MATCH (e:Experiment {id: r.experiment_id})
MATCH (g:Gene {id: r.gene})
MERGE (e)-[p:PERTURBS]->(g)
SET p.kind = r.kind, p.allele = r.allele, p.strain = r.strain
"""

BUILD = """
MERGE (b:Build {id: $id})
SET b.sources = $sources, b.code_version = $code_version
"""

LABEL_COUNTS = "CALL db.labels() YIELD label RETURN label ORDER BY label"
REL_TYPES = "CALL db.relationshipTypes() YIELD relationshipType RETURN relationshipType ORDER BY relationshipType"
