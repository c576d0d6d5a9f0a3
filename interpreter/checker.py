"""Static checks of a policy set: names, types, null tests, cycles, references between files.

The checker never changes the AST. It records what it learns in side tables
keyed by node identity: the type of every expression and what every name
refers to. A set that passes cannot meet a type error at evaluation.
"""
from __future__ import annotations

import difflib
from pathlib import Path
from dataclasses import dataclass, field

from .labels import PLACEHOLDER, labelled_decls, placeholders_of
from . import syntax as A
from .builtins import BUILTINS
from .diagnostics import Diagnostic, Span
from .model import ExceptionDecl, Expr, InputDecl, Policy, RuleDecl, SharedInputs
from .typesys import (ANY, BOOL, DATE, DURATION, ERROR, NULL, NUMBER, STRING, ListT, Nullable, RecordT, Type,
                    describe, strip_null, unify)

__all__ = ["Ref", "CheckedSet", "check"]


@dataclass(frozen=True, slots=True)
class Ref:
    """What a name stands for: input, param, rule, outcome, local (binder variable) or today."""
    kind: str
    policy: str | None = None
    name: str = ""
    depth: int = 0


@dataclass(eq=False)
class CheckedSet:
    policies: dict[str, Policy]
    inputs: dict[str, InputDecl]
    types: dict[int, Type] = field(default_factory=dict)
    refs: dict[int, Ref] = field(default_factory=dict)
    rule_types: dict[tuple[str, str], Type] = field(default_factory=dict)
    amendments: dict[tuple[str, str], list[ExceptionDecl]] = field(default_factory=dict)
    readers: dict[str, set[str]] = field(default_factory=dict)  # policy id -> inputs it reads
    input_conflicts: set[str] = field(default_factory=set)      # inputs typed differently in different sets
    item_labels: dict[int, object] = field(default_factory=dict)  # binder node id -> the rule's `each` template


@dataclass(frozen=True)
class _Env:
    policy: Policy
    locals: tuple = ()              # ((name, Type), ...) innermost last
    nonnull: frozenset = frozenset()


def _suggest(name: str, candidates) -> str | None:
    hit = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.6)
    return f"did you mean `{hit[0]}`?" if hit else None


class _Checker:
    def __init__(self, policies: list[Policy], shared: list[SharedInputs]):
        self.diags: list[Diagnostic] = []
        self._narrow_memo: dict[tuple[int, bool], tuple[frozenset[str], A.Node]] = {}  # the node keeps its id
        self.policies: dict[str, Policy] = {}
        for p in policies:
            if p.id in self.policies:
                first = self.policies[p.id]
                self.error("duplicate-id", f"policy id `{p.id}` is already used by {first.file}", p.span)
                continue
            self.policies[p.id] = p
        self.shared = shared
        self._shared_by_folder: dict[Path, list[SharedInputs]] | None = None  # see _visible_inputs
        for s in shared:
            for name, decl in s.inputs.items():
                if name in RESERVED:
                    self.error("reserved-name", _reserved_message(name), decl.span)
        self.visible: dict[str, dict[str, InputDecl]] = {}
        for p in self.policies.values():
            self.visible[p.id] = self._visible_inputs(p)
        by_dir: dict[Path, dict[str, InputDecl]] = {}
        for p in self.policies.values():  # one facts document serves a directory's policies
            table = by_dir.setdefault(Path(p.file).resolve().parent, {})
            for decl in self.visible[p.id].values():
                self._merge_input(table, decl)
        self.all_inputs: dict[str, InputDecl] = {}
        self.conflicts: set[str] = set()
        for table in self.visible.values():
            for name, decl in table.items():
                prior = self.all_inputs.get(name)
                if prior is None:
                    self.all_inputs[name] = decl
                elif prior.type != decl.type:
                    self.conflicts.add(name)
        for s in shared:  # inputs that no loaded policy sees are still facts of the set
            for name, decl in s.inputs.items():
                self.all_inputs.setdefault(name, decl)
        self.out = CheckedSet(self.policies, self.all_inputs)
        self.out.input_conflicts = self.conflicts
        self.in_progress: list[tuple[str, str, str]] = []
        self.used_inputs: dict[str | None, set[str]] = {}
        self.used_shared: set[int] = set()
        self.used_params: set[tuple[str, str]] = set()
        self.binder_envs: dict[int, _Env] = {}
        self.deps: dict[tuple, set[tuple]] = {}  # rule or outcome -> the rules and outcomes it reads

    def _visible_inputs(self, p: Policy) -> dict[str, InputDecl]:
        """The shared inputs of the policy's directory and its parents (outermost first), then its own."""
        if self._shared_by_folder is None:
            self._shared_by_folder = {}
            for s in self.shared:
                self._shared_by_folder.setdefault(Path(s.file).resolve().parent, []).append(s)
        here = Path(p.file).resolve().parent
        table: dict[str, InputDecl] = {}
        for folder in (*reversed(here.parents), here):
            for s in self._shared_by_folder.get(folder, ()):
                for decl in s.inputs.values():
                    self._merge_input(table, decl)
        for decl in p.inputs.values():
            self._merge_input(table, decl)
        return table

    def _merge_input(self, table: dict[str, InputDecl], decl: InputDecl):
        prior = table.get(decl.name)
        if prior is not None and prior.type != decl.type:
            self.error("input-conflict", f"input `{decl.name}` is declared as {prior.type} in {prior.span.file} "
                       f"and as {decl.type} here", decl.span)
            return
        if prior is None or (prior.question is None and decl.question):
            table[decl.name] = decl

    # -- diagnostics
    def error(self, code, message, span, help=None):
        self.diags.append(Diagnostic(code, message, span, "error", help))

    def warn(self, code, message, span, help=None):
        self.diags.append(Diagnostic(code, message, span, "warning", help))

    def _string_values(self, p: Policy) -> set[str]:
        """The strings that the policy's inputs (and their fields) and parameters allow."""
        found: set[str] = set()
        specs = [d.spec for d in self.visible[p.id].values()]
        while specs:
            spec = specs.pop()
            if isinstance(spec, dict):
                found.update(v for v in spec.get("values") or () if isinstance(v, str))
                specs.extend(v for v in spec.values() if isinstance(v, dict))
        for param in p.params.values():
            found.update(v for v in param.allowed or () if isinstance(v, str))
        return found

    # -- names of a policy
    def local_names(self, p: Policy) -> dict[str, str]:
        names = {}
        for kind, table in (("input", self.visible[p.id]), ("param", p.params), ("rule", p.rules),
                            ("outcome", p.outcomes)):
            for n in table:
                names.setdefault(n, kind)
        return names

    def check_names(self, p: Policy):
        seen: dict[str, str] = {}
        shared = {n: d for n, d in self.visible[p.id].items() if n not in p.inputs}
        for kind, table in (("shared input", shared), ("input", p.inputs), ("parameter", p.params), ("rule", p.rules),
                            ("outcome", p.outcomes)):
            for n, decl in table.items():
                if n in seen:
                    where = "" if seen[n] != "shared input" else " (declared in the set's inputs file)"
                    self.error("duplicate-name", f"`{n}` is both {_a(seen[n])}{where} and {_a(kind)} of this policy", decl.span)
                elif n in RESERVED and kind != "shared input":
                    self.error("reserved-name", _reserved_message(n), decl.span)
                else:
                    seen[n] = kind
        for alias, (target, span, key_span) in p.uses.items():
            if target not in self.policies:
                self.error("unknown-policy", f"no policy with id `{target}` in this set", span,
                           _suggest(target, self.policies))
            if alias in seen:
                self.error("duplicate-name", f"`{alias}` is both {_a(seen[alias])} and a policy alias", key_span)

    # -- rules and outcomes, checked on demand so that cycles show
    def rule_type(self, pid: str, name: str, kind: str, at: Span | None) -> Type:
        key = (pid, name) if kind == "rule" else (pid, "outcome:" + name)
        frame = (pid, name, kind)
        if self.in_progress:
            self.deps.setdefault(self.in_progress[-1], set()).add(frame)
        if key in self.out.rule_types:
            return self.out.rule_types[key]
        if frame in self.in_progress:
            cycle = self.in_progress[self.in_progress.index(frame):] + [frame]
            path = " -> ".join(n for _, n, _ in cycle)
            self.error("cycle", f"rules refer to each other in a cycle: {path}", at)
            return ERROR
        self.in_progress.append(frame)
        p = self.policies[pid]
        if kind == "outcome":
            o = p.outcomes[name]
            self.condition(o.when, _Env(p), "the `when` condition")
            values_env = _Env(p)  # values are computed only when `when` holds
            if o.when.node is not None:
                values_env = self._with_nonnull(values_env, self._narrowed(o.when.node, True))
            for e in o.values.values():
                self.expr(e, values_env)
            t = BOOL
        else:
            t = self._rule_body(p, p.rules[name])
        self.in_progress.pop()
        self.out.rule_types[key] = t
        return t

    def _rule_body(self, p: Policy, r: RuleDecl) -> Type:
        t = self._rule_value(p, r)
        if r.each is not None:
            self._check_each(p, r)
        return t

    def _check_each(self, p: Policy, r: RuleDecl):
        """An `each` label belongs to the binders of the rule whose variable it mentions."""
        placeholders = [x for x in r.each.parts if isinstance(x, Expr) and x.node is not None]
        used = {n.name for x in placeholders for n in A.walk(x.node) if isinstance(n, A.Name)}
        roots = [e.node for e in [r.expr, r.base] + [x.value for x in r.exceptions] if e is not None and e.node is not None]
        binders = [n for root in roots for n in A.walk(root) if isinstance(n, A.Binder) and n.var in used]
        if not binders:
            self.error("template", "`each` must mention the variable of a binder in the rule, such as `{y.year}`",
                       r.each.span, "the label is shown for each item the binder goes through")
            return
        for b in binders:
            env = self.binder_envs.get(id(b))
            if env is None:
                continue
            for x in placeholders:
                try:
                    self.infer(x.node, env)
                except RecursionError:
                    self.error("expression-too-deep", "expression is nested too deeply to check", x.span)
            self.out.item_labels[id(b)] = (r.each, r.cite)

    def _rule_value(self, p: Policy, r: RuleDecl) -> Type:
        if r.expr is not None:
            t = self.expr(r.expr, _Env(p))
            return Nullable(t) if r.nullable and t not in (ERROR, NULL) and not isinstance(t, Nullable) else t
        t = self.expr(r.base, _Env(p))
        if r.nullable and t not in (ERROR, NULL) and not isinstance(t, Nullable):
            t = Nullable(t)
        excs = list(r.exceptions) + self.out.amendments.get((p.id, r.name), [])
        for exc in excs:
            env = _Env(self.policies[exc.policy_id])
            self.condition(exc.when, env, "an exception's `when`")
            vt = self.expr(exc.value, env)
            gives_null = vt == NULL or isinstance(vt, Nullable)
            if gives_null and not r.nullable and not (t == NULL or isinstance(t, Nullable)):
                self.error("nullable-rule", f"this exception can give null, but rule `{r.name}` is not declared nullable",
                           exc.value.node.span if exc.value.node is not None else exc.value.span,
                           f"add `nullable: true` to rule `{r.name}` so that every reader tests it for null")
                continue
            u = unify(t, vt)
            if u is None:
                self.error("type-mismatch", f"the exception gives {describe(vt)} but rule `{r.name}` is {describe(t)}",
                           exc.value.node.span if exc.value.node is not None else exc.value.span)
            else:
                t = u
        return t

    def condition(self, e: Expr, env: _Env, what: str):
        t = self.expr(e, env)
        if t not in (BOOL, ERROR):
            self.error("not-boolean", f"{what} must be true or false, not {describe(t)}", e.node.span if e.node else e.span)

    def expr(self, e: Expr, env: _Env) -> Type:
        if e.node is None:
            return ERROR
        try:
            return self.infer(e.node, env)
        except RecursionError:
            self.error("expression-too-deep", "expression is nested too deeply to check", e.span)
            return ERROR

    # -- expressions
    def infer(self, node: A.Node, env: _Env) -> Type:
        t = getattr(self, "i_" + type(node).__name__)(node, env)
        self.out.types[id(node)] = t
        return t

    def value(self, node: A.Node, env: _Env, what: str = "") -> Type:
        """Infer a type that must not be null."""
        t = self.infer(node, env)
        if isinstance(t, Nullable):
            self.error("nullable-use", f"`{_text_of(node)}` may be null; test `{_text_of(node)} != null` first",
                       node.span)
            return t.inner
        if t == NULL:
            self.error("type-mismatch", "null is not allowed here", node.span)
            return ERROR
        return t

    def i_Literal(self, n: A.Literal, env):
        v = n.value
        if v is None:
            return NULL
        if isinstance(v, bool):
            return BOOL
        if isinstance(v, str):
            return STRING
        from decimal import Decimal
        if isinstance(v, Decimal):
            return NUMBER
        from .values import Duration
        if isinstance(v, Duration):
            return DURATION
        return DATE

    def _narrow_key(self, node: A.Node) -> str | None:
        if isinstance(node, A.Name):
            r = self.out.refs.get(id(node))
            return None if r is None else f"{r.kind}:{r.policy}:{r.name}:{r.depth}"
        if isinstance(node, A.Field):
            r = self.out.refs.get(id(node))
            if r is not None:
                return f"{r.kind}:{r.policy}:{r.name}:{r.depth}"
            base = self._narrow_key(node.target)
            return None if base is None else base + "." + node.name
        return None

    def _narrowed(self, cond: A.Node, positive: bool) -> frozenset[str]:
        """The values known not to be null where `cond` is `positive`. Kept per node: a chain
        `a and b and c ...` asks again about each left part, which would make it quadratic."""
        key = (id(cond), positive)
        found = self._narrow_memo.get(key)
        if found is None:
            found = self._narrow_memo[key] = (frozenset(self._narrowed_now(cond, positive)), cond)
        return found[0]

    def _narrowed_now(self, cond: A.Node, positive: bool) -> frozenset[str] | set[str]:
        if isinstance(cond, A.Compare) and cond.op in ("==", "!="):
            other = None
            if isinstance(cond.right, A.Literal) and cond.right.value is None:
                other = cond.left
            elif isinstance(cond.left, A.Literal) and cond.left.value is None:
                other = cond.right
            if other is not None and (cond.op == "!=") == positive:
                k = self._narrow_key(other)
                return {k} if k else set()
            return set()
        if isinstance(cond, A.BoolOp):
            if (cond.op == "and") == positive:
                return self._narrowed(cond.left, positive) | self._narrowed(cond.right, positive)
            return set()
        if isinstance(cond, A.Not):
            return self._narrowed(cond.operand, not positive)
        return set()

    def _with_nonnull(self, env: _Env, keys: set[str]) -> _Env:
        return env if not keys else _Env(env.policy, env.locals, env.nonnull | frozenset(keys))

    def _maybe_strip(self, node, env, t: Type) -> Type:
        if isinstance(t, Nullable):
            k = self._narrow_key(node)
            if k is not None and k in env.nonnull:
                return t.inner
        return t

    def i_Name(self, n: A.Name, env: _Env):
        for depth in range(len(env.locals) - 1, -1, -1):
            if env.locals[depth][0] == n.name:
                self.out.refs[id(n)] = Ref("local", None, n.name, depth)
                return self._maybe_strip(n, env, env.locals[depth][1])
        p = env.policy
        decl = self.visible[p.id].get(n.name)
        if decl is not None:
            self.out.refs[id(n)] = Ref("input", p.id, n.name)
            self.used_inputs.setdefault(decl.owner, set()).add(n.name)
            self.used_shared.add(id(decl))
            self.out.readers.setdefault(p.id, set()).add(n.name)
            return self._maybe_strip(n, env, decl.type)
        if n.name in p.params:
            self.out.refs[id(n)] = Ref("param", p.id, n.name)
            self.used_params.add((p.id, n.name))
            return p.params[n.name].type
        if n.name in p.rules:
            self.out.refs[id(n)] = Ref("rule", p.id, n.name)
            t = self.rule_type(p.id, n.name, "rule", n.span)
            return self._maybe_strip(n, env, t)
        if n.name in p.outcomes:
            self.out.refs[id(n)] = Ref("outcome", p.id, n.name)
            return self.rule_type(p.id, n.name, "outcome", n.span)
        if n.name in p.uses:
            self.error("type-mismatch", f"`{n.name}` names the policy `{p.uses[n.name][0]}`, not a value",
                       n.span, f"refer to one of its rules as `{n.name}.rule_name`")
            return ERROR
        if n.name == "today":
            self.out.refs[id(n)] = Ref("today")
            return DATE
        candidates = [name for name, _ in env.locals] + list(self.local_names(p)) + list(p.uses) + ["today"]
        help = _suggest(n.name, candidates)
        if n.name in self._string_values(p):  # `status == retired`: a value of an input, written without quotes
            help = f'write it as a string: "{n.name}"'
        self.error("unknown-name", f"unknown name `{n.name}`", n.span, help)
        return ERROR

    def i_Field(self, n: A.Field, env: _Env):
        tgt = n.target
        if isinstance(tgt, A.Name) and tgt.name in env.policy.uses and not any(x[0] == tgt.name for x in env.locals) \
                and tgt.name not in self.local_names(env.policy):
            target_id = env.policy.uses[tgt.name][0]
            other = self.policies.get(target_id)
            if other is None:
                return ERROR  # reported at `uses`
            if n.name in other.rules:
                self.out.refs[id(n)] = Ref("rule", other.id, n.name)
                return self._maybe_strip(n, env, self.rule_type(other.id, n.name, "rule", n.span))
            if n.name in other.outcomes:
                self.out.refs[id(n)] = Ref("outcome", other.id, n.name)
                return self.rule_type(other.id, n.name, "outcome", n.span)
            self.error("unknown-reference", f"policy `{other.id}` has no rule or outcome `{n.name}`", n.name_span or n.span,
                       _suggest(n.name, list(other.rules) + list(other.outcomes)))
            return ERROR
        t = self.infer(tgt, env)
        if t is ERROR:
            return ERROR
        if isinstance(t, Nullable):
            self.error("nullable-access", f"`{_text_of(tgt)}` may be null; test `{_text_of(tgt)} != null` before reading `.{n.name}`",
                       tgt.span)
            t = t.inner
        if not isinstance(t, RecordT):
            self.error("type-mismatch", f"`.{n.name}` needs a record, but `{_text_of(tgt)}` is {describe(t)}", n.span)
            return ERROR
        ft = t.field(n.name)
        if ft is None:
            self.error("unknown-field", f"`{_text_of(tgt)}` has no field `{n.name}`", n.name_span or n.span,
                       _suggest(n.name, [f for f, _ in t.fields]))
            return ERROR
        return self._maybe_strip(n, env, ft)

    def i_Index(self, n: A.Index, env: _Env):
        tgt = n.target
        if isinstance(tgt, A.Name):
            self.infer(tgt, env)
            r = self.out.refs.get(id(tgt))
            if r is not None and r.kind == "param":
                param = env.policy.params[r.name]
                kt = self.value(n.key, env)
                want = {"by_year": NUMBER, "steps": DATE}.get(param.kind)
                if want is None:
                    self.error("not-indexable", f"parameter `{param.name}` is a single value, not a table", n.span)
                    return ERROR
                if kt not in (want, ERROR):
                    self.error("type-mismatch", f"parameter `{param.name}` is indexed by {describe(want)}, not {describe(kt)}",
                               n.key.span)
                return param.type
        else:
            self.infer(tgt, env)
        self.error("not-indexable", "only parameter tables can be indexed, as in `average_salary[2023]`", n.span)
        return ERROR

    def i_Unary(self, n: A.Unary, env):
        t = self.value(n.operand, env)
        if t in (NUMBER, DURATION, ERROR):
            return t
        self.error("type-mismatch", f"`-` needs a number or a duration, not {describe(t)}", n.span)
        return ERROR

    _ARITH = {
        ("+", NUMBER, NUMBER): NUMBER, ("-", NUMBER, NUMBER): NUMBER, ("*", NUMBER, NUMBER): NUMBER,
        ("/", NUMBER, NUMBER): NUMBER, ("+", DATE, DURATION): DATE, ("+", DURATION, DATE): DATE,
        ("-", DATE, DURATION): DATE, ("+", DURATION, DURATION): DURATION, ("-", DURATION, DURATION): DURATION,
        ("+", STRING, STRING): STRING,
    }

    def i_Binary(self, n: A.Binary, env):
        lt = self.value(n.left, env)
        rt = self.value(n.right, env)
        if ERROR in (lt, rt):
            return ERROR
        t = self._ARITH.get((n.op, lt, rt))
        if t is None:
            help = "use days_between(a, b) or years_between(a, b) for the time between dates" if (lt, rt) == (DATE, DATE) else None
            self.error("type-mismatch", f"`{n.op}` cannot combine {describe(lt)} and {describe(rt)}", n.span, help)
            return ERROR
        return t

    def i_Compare(self, n: A.Compare, env):
        if n.op in ("==", "!="):
            lt, rt = self.infer(n.left, env), self.infer(n.right, env)
            if ERROR in (lt, rt):
                return BOOL
            if NULL in (lt, rt):
                other, other_node = (rt, n.right) if lt == NULL else (lt, n.left)
                narrowed = self._narrow_key(other_node) in env.nonnull  # already tested: redundant, not wrong
                if not isinstance(other, Nullable) and other != NULL and not narrowed:
                    self.error("type-mismatch", f"`{_text_of(other_node)}` is {describe(other)} and is never null",
                               n.span, "a fact that is not given is unknown, not null; only inputs declared `nullable` can be null")
                return BOOL
            if unify(strip_null(lt), strip_null(rt)) is None:
                self.error("type-mismatch", f"cannot compare {describe(lt)} with {describe(rt)}", n.span)
            self._check_allowed(n.left, n.right, env)
            self._check_allowed(n.right, n.left, env)
            return BOOL
        lt, rt = self.value(n.left, env), self.value(n.right, env)
        if ERROR in (lt, rt):
            return BOOL
        if lt != rt or lt not in (NUMBER, DATE, STRING):
            help = "durations cannot be ordered (is 1 month more than 30 days?); compare dates instead" if DURATION in (lt, rt) else None
            self.error("type-mismatch", f"`{n.op}` cannot compare {describe(lt)} with {describe(rt)}", n.span, help)
        return BOOL

    def i_BoolOp(self, n: A.BoolOp, env):
        lt = self.value(n.left, env)
        right_env = self._with_nonnull(env, self._narrowed(n.left, n.op == "and"))
        rt = self.value(n.right, right_env)
        for t, side in ((lt, n.left), (rt, n.right)):
            if t not in (BOOL, ERROR):
                self.error("type-mismatch", f"`{n.op}` needs true or false on both sides, not {describe(t)}", side.span)
        return BOOL

    def i_Not(self, n: A.Not, env):
        t = self.value(n.operand, env)
        if t not in (BOOL, ERROR):
            self.error("type-mismatch", f"`not` needs true or false, not {describe(t)}", n.operand.span)
        return BOOL

    def _allowed_values(self, node: A.Node, env: _Env) -> list | None:
        """The `values:` a string input (or a field of a record input) is declared to take."""
        spec = None
        if isinstance(node, A.Name):
            r = self.out.refs.get(id(node))
            if r is not None and r.kind == "input":
                spec = self.visible[env.policy.id][r.name].spec
        elif isinstance(node, A.Field) and isinstance(node.target, A.Name):
            r = self.out.refs.get(id(node.target))
            if r is not None and r.kind == "input":
                outer = self.visible[env.policy.id][r.name].spec
                if isinstance(outer, dict):
                    fields = outer.get("fields") if "type" in outer else outer
                    spec = (fields or {}).get(node.name)
        if isinstance(spec, dict):
            return spec.get("values")
        return None

    def _check_allowed(self, subject: A.Node, literal: A.Node, env: _Env):
        allowed = self._allowed_values(subject, env)
        literals = [literal] if isinstance(literal, A.Literal) else (
            list(literal.items) if isinstance(literal, A.ListExpr) else [])
        for lit in literals:
            if allowed and isinstance(lit, A.Literal) and isinstance(lit.value, str) and lit.value not in allowed:
                self.error("unknown-value", f"`{_text_of(subject)}` is never `{lit.value}`; it is one of: "
                           + ", ".join(allowed), lit.span, _suggest(lit.value, allowed))

    def i_In(self, n: A.In, env):
        it = self.value(n.item, env)
        ct = self.value(n.collection, env)
        self._check_allowed(n.item, n.collection, env)
        if ERROR in (it, ct):
            return BOOL
        if ct == STRING and it == STRING:
            return BOOL
        if ct == STRING:
            self.error("type-mismatch", f"`in` a string looks for a string in it, not {describe(it)}", n.item.span)
        elif not isinstance(ct, ListT):
            self.error("type-mismatch", f"`in` needs a list (or a string) on its right, not {describe(ct)}", n.collection.span)
        elif unify(it, ct.item) is None:
            self.error("type-mismatch", f"{describe(it)} can never be in a list of {ct.item}", n.span)
        return BOOL

    def i_If(self, n: A.If, env):
        ct = self.value(n.cond, env)
        if ct not in (BOOL, ERROR):
            self.error("not-boolean", f"the condition of `if` must be true or false, not {describe(ct)}", n.cond.span)
        a = self.infer(n.then, self._with_nonnull(env, self._narrowed(n.cond, True)))
        b = self.infer(n.orelse, self._with_nonnull(env, self._narrowed(n.cond, False)))
        u = unify(a, b)
        if u is None:
            self.error("type-mismatch", f"the branches of `if` differ: {describe(a)} and {describe(b)}", n.span)
            return ERROR
        return u

    def i_ListExpr(self, n: A.ListExpr, env):
        t: Type = ANY
        for item in n.items:
            it = self.value(item, env)
            u = unify(t, it)
            if u is None:
                self.error("type-mismatch", f"list items must share one type: {describe(t)} and {describe(it)}", item.span)
                return ERROR
            t = u
        return ListT(t)

    def i_Call(self, n: A.Call, env):
        b = BUILTINS.get(n.func)
        arg_types = [self.value(a, env) for a in n.args]
        if b is None:
            self.error("unknown-function", f"unknown function `{n.func}`", n.func_span, _suggest(n.func, BUILTINS))
            return ERROR
        lo, hi = b.arity
        if not lo <= len(n.args) <= hi:
            want = str(lo) if lo == hi else f"{lo} to {hi}"
            self.error("arity", f"`{n.func}` takes {want} argument{'s' if hi != 1 else ''}, not {len(n.args)}", n.span)
            return ERROR
        res = b.signature(arg_types)
        if isinstance(res, str):
            self.error("type-mismatch", f"`{n.func}`: {res}", n.span)
            return ERROR
        return res

    def i_Binder(self, n: A.Binder, env: _Env):
        ct = self.value(n.collection, env)
        if ct is ERROR:
            item = ERROR
        elif not isinstance(ct, ListT):
            self.error("type-mismatch", f"`{n.kind}` needs a list after `in`, not {describe(ct)}", n.collection.span)
            item = ERROR
        else:
            item = ct.item
        inner = _Env(env.policy, env.locals + ((n.var, item),), env.nonnull)
        self.binder_envs[id(n)] = inner
        bt = self.value(n.body, inner)
        if bt is ERROR:
            return {"all": BOOL, "any": BOOL, "count": NUMBER, "sum": NUMBER}.get(n.kind, ERROR)
        if n.kind in ("all", "any", "count", "filter"):
            if bt != BOOL:
                self.error("not-boolean", f"the body of `{n.kind}` must be true or false, not {describe(bt)}", n.body.span)
            return {"all": BOOL, "any": BOOL, "count": NUMBER}.get(n.kind) or ListT(item)
        if n.kind == "sum":
            if bt != NUMBER:
                self.error("type-mismatch", f"the body of `sum` must be a number, not {describe(bt)}", n.body.span)
            return NUMBER
        if n.kind in ("min", "max"):
            if bt not in (NUMBER, DATE):
                self.error("type-mismatch", f"the body of `{n.kind}` must be a number or a date, not {describe(bt)}", n.body.span)
                return ERROR
            return bt
        return ListT(bt)  # map

    def _check_chain_depth(self):
        """Evaluation nests one level per rule read by a rule: refuse chains longer than MAX_RULE_CHAIN."""
        depth: dict[tuple, int] = {}
        for start in list(self.deps):
            stack = [(start, False)]
            while stack:
                node, done = stack.pop()
                if node in depth:
                    continue
                children = [c for c in self.deps.get(node, ()) if c != node]
                if done:
                    depth[node] = 1 + max((depth.get(c, 0) for c in children), default=0)
                    continue
                stack.append((node, True))
                stack.extend((c, False) for c in children if c not in depth and (c, True) not in stack)
        if not depth:
            return
        deepest, d = max(depth.items(), key=lambda kv: kv[1])
        if d - 1 > MAX_RULE_CHAIN:  # d counts the rule itself; the chain is what it reads
            pid, name, kind = deepest
            decl = self.policies[pid].rules.get(name) if kind == "rule" else self.policies[pid].outcomes.get(name)
            self.error("rule-chain-too-deep", f"`{name}` reads a chain of {d - 1} rules, each reading the next; "
                       f"the limit is {MAX_RULE_CHAIN}", decl.span if decl else None,
                       "shorten the chain: a rule can combine several steps in one expression")

    # -- the whole set
    def run(self) -> CheckedSet:
        for p in self.policies.values():
            self.check_names(p)
        for p in self.policies.values():
            for target, (span, excs) in p.amendments.items():
                alias, rule = target.split(".", 1)
                if alias not in p.uses:
                    self.error("unknown-name", f"`{alias}` is not a policy alias of this file", span,
                               f"declare it under `uses:`, e.g. `uses: {{{alias}: policy.id}}`")
                    continue
                other = self.policies.get(p.uses[alias][0])
                if other is None:
                    continue
                r = other.rules.get(rule)
                if r is None:
                    self.error("unknown-reference", f"policy `{other.id}` has no rule `{rule}`", span,
                               _suggest(rule, other.rules))
                    continue
                if r.base is None:
                    self.error("not-amendable", f"rule `{rule}` of `{other.id}` has no base `value`, so it takes no exceptions",
                               span, "write the rule with `value:` (and `exceptions:`) instead of `expr:`")
                    continue
                self.out.amendments.setdefault((other.id, rule), []).extend(excs)
        for p in self.policies.values():
            for name in p.rules:
                self.rule_type(p.id, name, "rule", p.rules[name].span)
            for name in p.outcomes:
                self.rule_type(p.id, name, "outcome", p.outcomes[name].span)
        self._check_chain_depth()
        for p in self.policies.values():  # `{alias.parameter}` in labels: a parameter of a policy used
            for label, span in labelled_decls(p):
                for m in PLACEHOLDER.finditer(label or ""):
                    alias, dot, name = m.group(1).partition(".")
                    other = self.policies.get(p.uses[alias][0]) if dot and alias in p.uses else None
                    if other is not None and name not in other.params:
                        self.error("template", f"`{{{m.group(1)}}}` in a label: policy `{other.id}` has no parameter "
                                   f"`{name}`", span, _suggest(name, other.params))
                    elif other is not None:
                        self.used_params.add((other.id, name))
        for p in self.policies.values():
            used = self.used_inputs.get(p.id, set())
            for name, decl in p.inputs.items():
                if name not in used:
                    self.warn("unused-input", f"input `{name}` is declared but never read", decl.span)
            in_labels = placeholders_of(p)
            for name, decl in p.params.items():
                if (p.id, name) not in self.used_params and name not in in_labels:
                    self.warn("unused-parameter", f"parameter `{name}` is never used", decl.span)
        if self.policies:
            for s in self.shared:
                if s.implied:
                    continue  # only part of the set was loaded: its other policies may read these
                for name, decl in s.inputs.items():
                    if id(decl) not in self.used_shared:
                        self.warn("unused-input", f"shared input `{name}` is read by no policy", decl.span)
        return self.out


MAX_RULE_CHAIN = 64  # rules referring to rules: evaluation nests one level per step

RESERVED = {"today", "and", "or", "not", "in", "if", "then", "else", "true", "false", "null"}


def _reserved_message(name: str) -> str:
    if name == "today":
        return "`today` is the evaluation date and cannot be redefined"
    return f"`{name}` is a word of the expression language and cannot be a name"


def _a(word: str) -> str:
    return ("an " if word[0] in "aeiou" else "a ") + word


def _text_of(node: A.Node) -> str:
    from .printer import to_text
    return to_text(node)


def check(policies: list[Policy], shared: list[SharedInputs]) -> tuple[CheckedSet, list[Diagnostic]]:
    """Check a policy set; returns the side tables and the diagnostics (errors and warnings)."""
    c = _Checker(policies, shared)
    out = c.run()
    return out, c.diags
