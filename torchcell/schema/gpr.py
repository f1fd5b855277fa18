"""Gene–protein–reaction rules as boolean structure.

A rule such as ``(YGL080W and YHR162W) or (YGL080W and YGR243W)`` says which gene sets can
catalyze a reaction: AND joins the subunits of a complex, OR joins alternatives (isozymes).
``to_dnf`` turns a rule into its clauses (an OR of AND-sets). A reaction is lost after
deletions exactly when every clause contains a deleted gene; a reaction without a rule
(spontaneous, exchange) is never lost.
"""

from __future__ import annotations

import re

TOKEN = re.compile(r"\(|\)|[^\s()]+")
MAX_CLAUSES = 4096
"""The most clauses a rule may expand to. An AND of k two-way ORs has 2^k clauses; Yeast9's
largest rule has far fewer, and a foreign model's pathological rule fails fast, not for hours."""


class RuleTooLarge(ValueError):
    pass


def to_dnf(rule: str | None, max_clauses: int = MAX_CLAUSES) -> list[frozenset[str]]:
    """The rule's clauses, each a set of genes that must all be present; [] for no rule.

    Raises ``RuleTooLarge`` when the expansion would exceed ``max_clauses``."""
    if rule is None or not rule.strip():
        return []
    tokens = TOKEN.findall(rule)
    position = 0

    def peek() -> str | None:
        return tokens[position].lower() if position < len(tokens) else None

    def take() -> str:
        nonlocal position
        position += 1
        return tokens[position - 1]

    def expr() -> list[frozenset[str]]:
        clauses = term()
        while peek() == "or":
            take()
            clauses = clauses + term()
            if len(clauses) > max_clauses:
                raise RuleTooLarge(f"rule expands to more than {max_clauses:,} AND-clauses")
        return clauses

    def term() -> list[frozenset[str]]:
        clauses = factor()
        while peek() == "and":
            take()
            right = factor()
            if len(clauses) * len(right) > max_clauses:
                raise RuleTooLarge(
                    f"rule expands to more than {max_clauses:,} AND-clauses "
                    f"({len(clauses):,} × {len(right):,} at token {position})"
                )
            clauses = [a | b for a in clauses for b in right]
        return clauses

    def factor() -> list[frozenset[str]]:
        token = peek()
        if token is None or token in ("and", "or", ")"):
            raise ValueError(
                f"malformed rule {rule!r}: expected a gene or '(' at token {position + 1}"
            )
        if token == "(":
            take()
            inner = expr()
            if peek() != ")":
                raise ValueError(f"malformed rule {rule!r}: missing ')'")
            take()
            return inner
        return [frozenset([take()])]

    clauses = expr()
    if position != len(tokens):
        raise ValueError(f"malformed rule {rule!r}: unexpected {tokens[position]!r}")
    unique = sorted(set(clauses), key=lambda c: sorted(c))
    return [c for c in unique if not any(other < c for other in unique)]


def without_genes(rule: str | None, absent: set[str]) -> str | None:
    """The rule with ``absent`` genes taken as always present (they cannot be deleted), as DNF
    text; None when a clause needs nothing else (the reaction can then never be lost)."""
    clauses = [clause - absent for clause in to_dnf(rule)]
    if not clauses or any(not clause for clause in clauses):
        return None
    unique = sorted(set(clauses), key=sorted)
    kept = [c for c in unique if not any(other < c for other in unique)]
    return " or ".join("(" + " and ".join(sorted(c)) + ")" for c in kept)


def is_active(rule: str | None, deleted: set[str]) -> bool:
    """Whether the reaction keeps a complete gene set after ``deleted`` are gone."""
    clauses = to_dnf(rule)
    return not clauses or any(not (clause & deleted) for clause in clauses)
