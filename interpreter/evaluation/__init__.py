"""Evaluation: the reference evaluator that defines the language, and the compiled back-ends held to it.

- `reference`: a plain tree-walking interpreter, the definition (docs/language.md).
- `analysis`: what is constant, fixed for a date, invariant in a binder; conditions; units.
- `kleene`: the three-valued closures.
- `strict`: the two-valued fast path, which gives up (raises) wherever a value is unknown.
- `traced`: the three-valued closures that record trace events.
- `rules`: how a rule's exceptions combine, for every back-end.
- `data`, `errors`: plain data of values, the evaluation error.
"""
