"""The traced closures: the three-valued closures, recording what they visit.

Each condition, binder, rule, exception and parameter value supplied from a file adds
an `Event` to `case.stack[-1]` (a list; nested events go in the event's `children`).
Sub-expressions that record nothing are compiled by the plain three-valued compiler.
A binder whose items mostly do not decide first tries the strict closures on them,
so that only the items that decide (or are unknown, or fail) are traced.
"""
from __future__ import annotations

from .. import syntax as A
from ..printer import format_value, to_text
from ..values import Record, Unknown
from .analysis import Analysis
from ..labels import filler
from .budget import STEPS, over_budget
from .data import PLAIN_TYPES, display, jsonable, missing_names, plain, span_key, tri_status
from .errors import COMPARE, EvalFailure
from .events import event
from .kleene import (KleeneCompiler, binder as kleene_binder, compare_unknown, finish, if_closure, kleene2, kleene_n,
                     union)
from .rules import combine_exceptions, exceptions_of, in_force
from .strict import StrictCompiler

__all__ = ["TracedCompiler"]

_MISSING = object()
_RELATIONS = {**COMPARE, "in": lambda a, b: a in b, "not in": lambda a, b: a not in b}


class TracedCompiler(KleeneCompiler):
    def __init__(self, checked, params: dict | None = None, analysis: Analysis | None = None):
        super().__init__(checked, params, analysis)
        self.plain = KleeneCompiler(checked, params, self.analysis)   # for what records nothing
        self.plain.rule_fns = self.rule_fns  # a rule read in an `each` label is this set's rule
        self.quick = StrictCompiler(checked, params, self.analysis)   # a binder's first, untraced try

    # ---- dispatch
    def c(self, node: A.Node):
        if not isinstance(node, (A.Literal, A.Name)) and self.analysis.records_nothing(node):
            self.plain.depth, self.plain.policy = self.depth, self.policy
            return self.plain.c(node)
        if isinstance(node, (A.Compare, A.In)) and self.analysis.is_condition(node):
            return self.trace_relation(node)
        fn = getattr(self, "c_" + type(node).__name__)(node)
        if self.analysis.is_condition(node):
            return self.trace_condition(node, fn)
        return fn

    def _label(self, node: A.Node) -> str | None:
        ref = self.refs.get(id(node))
        if ref is not None and ref.kind == "input":
            decl = self.checked.inputs.get(ref.name)
            return decl.label if decl is not None else None
        return None

    def trace_relation(self, node: A.Node):
        """A comparison or `in` that records its event with both operands, each evaluated once."""
        text, pid, key = to_text(node), self.policy, span_key(node.span)
        left, right = (node.left, node.right) if isinstance(node, A.Compare) else (node.item, node.collection)
        left_operand, right_operand = self._operand_fn(left), self._operand_fn(right)
        op = node.op if isinstance(node, A.Compare) else ("not in" if node.negated else "in")
        test = _RELATIONS[op]
        reading, label = self.analysis.parameters_only(node), self._label(node) or None
        ranges = (None, None)
        if isinstance(node, A.Compare):  # a counted operand's range, computed quietly
            self.plain.depth, self.plain.policy = self.depth, self.policy
            ranges = (self.plain.count_range(left), self.plain.count_range(right))

        def traced_comparison(c, loc):
            stack = c.stack
            parent = stack[-1]
            children: list = []
            stack.append(children)
            try:
                a, da = left_operand(c, loc)
                b, db = right_operand(c, loc)
                if type(a) is Unknown or type(b) is Unknown:
                    v = union(a, b)
                    if ranges != (None, None):
                        c.stack = [[]]  # the range is computed quietly
                        try:
                            v = compare_unknown(op, a, b, *ranges, c, loc)
                        finally:
                            c.stack = stack
                else:
                    v = test(a, b)
            finally:
                stack.pop()
            status = "true" if v is True else "false" if v is False else tri_status(v)
            if c.seen is not None and (v is True or v is False):
                c.seen.add((pid, key, status))
            parent.append(event("comparison", text, status, v if v is True or v is False else jsonable_in(c, v),
                                label, None, None, None, op, [da, db],
                                missing_names(v) if type(v) is Unknown else None, children, False, None, reading))
            return v
        return traced_comparison

    def trace_condition(self, node: A.Node, fn):
        text, pid, key = to_text(node), self.policy, span_key(node.span)
        op = node.op if isinstance(node, A.BoolOp) else None
        reading, label = self.analysis.parameters_only(node), self._label(node) or None

        def traced(c, loc):
            stack = c.stack
            parent = stack[-1]
            children: list = []
            stack.append(children)
            try:
                v = fn(c, loc)
            finally:
                stack.pop()
            status = "true" if v is True else "false" if v is False else tri_status(v)
            if c.seen is not None and (v is True or v is False):
                c.seen.add((pid, key, status))
            if op is not None:
                flat = []
                for ch in children:  # `a and b and c` reads as one list of conditions
                    if ch.op == op and ch.kind == "condition" and ch.operands is None:
                        flat.extend(ch.children)
                    else:
                        flat.append(ch)
                children = flat
            parent.append(event("condition", text, status, v if v is True or v is False else jsonable_in(c, v),
                                label, None, None, None, op, None,
                                missing_names(v) if type(v) is Unknown else None, children, False, None, reading))
            return v
        return traced

    def _operand_fn(self, node: A.Node):
        """A traced operand of a comparison: gives its value and its display data (text, value, unit,
        and for `a op b` both parts), evaluating it once."""
        text, unit = to_text(node), self.analysis.unit_of(node)
        if isinstance(node, A.Binary):
            lf, rf = self.c(node.left), self.c(node.right)
            from .kleene import binary_op
            op = binary_op(self.types, node)
            sym, lu, ru = node.op, self.analysis.unit_of(node.left), self.analysis.unit_of(node.right)

            def binary_operand(c, loc):
                a = lf(c, loc)
                b = rf(c, loc)
                if type(a) is Unknown or type(b) is Unknown:
                    d = {"text": text, "value": None, "known": False}
                    if unit:
                        d["unit"] = unit
                    return union(a, b), d
                v = op(a, b)
                d = {"text": text, "value": jsonable_in(c, v), "known": True}
                if unit:
                    d["unit"] = unit
                d["parts"] = {"op": sym, "values": [jsonable_in(c, a), jsonable_in(c, b)], "units": [lu, ru]}
                return v, d
            return binary_operand
        fn = self.c(node)

        def operand(c, loc):
            v = fn(c, loc)
            d = {"text": text, "value": v if type(v) in PLAIN_TYPES else jsonable_in(c, v),
                 "known": type(v) is not Unknown}
            if unit:
                d["unit"] = unit
            return v, d
        return operand

    # ---- names
    def ref(self, r, n: A.Node):
        if r.kind == "param":  # never folded: a value supplied from a file is shown where it is read
            return self.param(r.policy, r.name)
        return super().ref(r, n)

    def param(self, pid: str, name: str):
        def traced_param(c, loc):
            pv = c.params[pid][name]
            v = pv.current(c.as_of, pid)
            note_supplied(c, pv, pid, name, pv.current_key(c.as_of), v)
            return v
        return traced_param

    def rule(self, r):
        key = (r.policy, r.name) if r.kind == "rule" else (r.policy, "outcome:" + r.name)
        rule_fns = self.rule_fns
        memo_key = f"{key[0]}\0{key[1]}"
        policy = self.checked.policies[r.policy]
        decl = policy.rules.get(r.name) if r.kind == "rule" else policy.outcomes.get(r.name)
        kind, name, pid, label, cite = r.kind, r.name, r.policy, decl.label, decl.cite
        label_at = filler(self.analysis.params or {}, self.checked.policies, pid, label)  # `{parameter}`s

        def traced_rule(c, loc):
            memo = c.memo
            stack = c.stack
            v = memo.get(memo_key, _MISSING)
            if v is _MISSING:
                children: list | tuple = []
                stack.append(children)
                try:
                    v = memo[memo_key] = rule_fns[key](c, ())
                finally:
                    stack.pop()
                repeat = False
            else:
                children, repeat = (), True
            missing = None
            if v is True or v is False:
                status = "true" if v else "false"
                value = v
                if c.seen is not None:
                    c.seen.add((pid, (kind, name), status))
            else:
                status = tri_status(v)
                value = v if type(v) in PLAIN_TYPES else jsonable_in(c, v)
                if type(v) is Unknown:
                    missing = missing_names(v)
            stack[-1].append(event(kind, name, status, value, label if label_at is None else label_at(c.as_of), cite,
                                   pid, name, None, None, missing, children, repeat))
            return v
        return traced_rule

    def exceptions_rule(self, p, r):
        base = self.expr(r.base.node, p.id)
        excs = [(self.expr(e.when.node, e.policy_id), self.expr(e.value.node, e.policy_id), e, period)
                for e, period in exceptions_of(self.checked, p.id, r)]
        span, base_text = r.span, r.base.text
        params, policies = self.analysis.params or {}, self.checked.policies
        labels_at = {id(e): filler(params, policies, e.policy_id, e.label) for _, _, e, _ in excs}

        def rule(c, loc):
            fired = []  # the events of the exceptions that apply
            awaiting = []  # the event of the exception whose value is asked next, when it applies

            def traced_when(when, decl):
                children: list = []
                c.stack.append(children)
                try:
                    w = when(c, loc)
                finally:
                    c.stack.pop()
                label_at = labels_at[id(decl)]
                ev = event("exception", decl.when.text, tri_status(w), jsonable(w),
                           decl.label if label_at is None else label_at(c.as_of), decl.cite, decl.policy_id, None, None,
                           None, None, children)
                c.stack[-1].append(ev)
                if w is True:
                    fired.append(ev)
                    awaiting.append(ev)
                return w

            def traced_value(value):
                v = value(c, loc)
                if awaiting:
                    awaiting.pop().gives = jsonable(v)
                return v

            def traced_base():
                v = base(c, loc)
                c.stack[-1].append(event("value", base_text, tri_status(v), jsonable(v), "base value"))
                return v

            thunks = [(lambda when=when, decl=decl: traced_when(when, decl), lambda value=value: traced_value(value), decl)
                      for when, value, decl, period in excs if in_force(period, c.as_of)]
            result = combine_exceptions(thunks, traced_base, span)
            if fired:
                try:
                    b = jsonable(base(c, loc))
                except EvalFailure as e:
                    b = f"not computed ({e.message})"
                c.stack[-1].append(event("value", base_text, "skipped", b, "base value replaced by the exception"))
            return result
        return rule

    # ---- operators that the trace shows whole
    def c_Index(self, n: A.Index):
        r = self.refs[id(n.target)]
        pid, name = r.policy, r.name
        key = self.c(n.key)
        span = n.key.span

        def index(c, loc):
            k = key(c, loc)
            if type(k) is Unknown:
                return k
            pv = c.params[pid][name]
            v = pv.at(k, pid, span)
            note_supplied(c, pv, pid, name, k, v)
            return v
        return index

    def c_BoolOp(self, n: A.BoolOp):
        if isinstance(n.left, A.BoolOp) and n.left.op == n.op:
            fns = [self.c(x) for x in self.chain_operands(n)]  # no operand dropped: the trace shows each
            return kleene_n(n.op, fns)
        return kleene2(n.op, self.c(n.left), self.c(n.right))

    def c_If(self, n: A.If):
        return if_closure(self.c(n.cond), self.c(n.then), self.c(n.orelse))

    def c_Binder(self, n: A.Binder):
        coll = self.c(n.collection)
        depth = self.depth
        self.depth += 1
        try:
            body = self.c(n.body)
        finally:
            self.depth = depth
        kind, span, var = n.kind, n.span, n.var
        item_label = self._item_label(n)
        # An item whose value does not decide (true in `all`, false in `any`, any item of the other kinds)
        # keeps no events. Its body is first evaluated with the strict closures, without events, and again,
        # traced, only when it decides, is unknown or fails. Not when coverage is counted (every item's
        # conditions count), nor when the body reads a rule (its first, full event would be lost to the memo).
        # The whole all / any / filter is tried that way first, on the items already evaluated (`c.items`):
        # when no item decides, none is traced at all.
        quick = whole = None
        settled = (kind == "all") if kind in ("all", "any") else None  # an item value that decides nothing
        if not self.analysis.reads_rules(n.body):
            self.quick.depth, self.quick.policy = depth + 1, self.policy
            quick = self.quick.c(n.body)
            self.quick.depth = depth
            whole = self.quick.binder(n, _items, quick, depth)
            if whole is None:
                whole = kleene_binder(kind, _items, quick, span)

        def run(c, loc):
            xs = coll(c, loc)
            if type(xs) is Unknown:
                return xs
            c.steps += len(xs)
            if c.steps > STEPS:
                raise over_budget(span)
            if whole is not None and c.seen is None:
                c.items = xs
                try:
                    v = whole(c, loc)
                except Exception:  # noqa: BLE001 - traced item by item below
                    v = _MISSING
                if v is not _MISSING and (settled is None or v is settled):
                    return v
            unknown = None
            results = []
            for i, x in enumerate(xs):
                if quick is not None and c.seen is None:
                    try:
                        v = quick(c, loc + (x,))
                    except Exception:  # noqa: BLE001 - unknown or failing: traced below, which says why
                        v = _MISSING
                    if v is True if kind == "all" else v is False if kind == "any" else v is not _MISSING:
                        results.append(v)
                        continue
                children: list = []
                c.stack.append(children)
                try:
                    v = body(c, loc + (x,))
                finally:
                    c.stack.pop()
                decisive = (v is not True) if kind == "all" else (v is not False) if kind == "any" else False
                if decisive or type(v) is Unknown:
                    label = cite = None
                    if item_label is not None:
                        label, cite = item_label[0](c, loc + (x,)), item_label[1] or None
                    c.stack[-1].append(event("value", f"{var} = {format_value(plain(x))}", tri_status(v), jsonable(v),
                                             label, cite, None, None, None, None,
                                             missing_names(v) if type(v) is Unknown else None, children, False, i))
                if type(v) is Unknown:
                    unknown = v if unknown is None else unknown | v
                    continue
                if kind == "all" and v is False:
                    return False
                if kind == "any" and v is True:
                    return True
                results.append(v)
            if kind == "all":
                return unknown if unknown is not None else True
            if kind == "any":
                return unknown if unknown is not None else False
            if unknown is not None:
                return unknown
            return finish(kind, xs, results, span)

        text, pid, key = to_text(n), self.policy, span_key(n.span)

        def traced_binder(c, loc):
            children: list = []
            c.stack.append(children)
            try:
                v = run(c, loc)
            finally:
                c.stack.pop()
            status = tri_status(v)
            if c.seen is not None and status in ("true", "false"):
                c.seen.add((pid, key, status))
            value = v if type(v) in PLAIN_TYPES else jsonable_in(c, v)
            c.stack[-1].append(event("binder", text, status, value, None, None, None, None, None, None,
                                     missing_names(v) if type(v) is Unknown else None, children))
            return v
        return traced_binder

    def _item_label(self, n: A.Binder):
        """The rule's `each` label for a binder's items, as (function of the case and items, cite), or None."""
        if id(n) not in self.checked.item_labels:
            return None
        template, item_cite = self.checked.item_labels[id(n)]
        pieces = []
        for x in template.parts:
            if isinstance(x, str):
                pieces.append(x)
            else:
                self.plain.depth, self.plain.policy = self.depth + 1, self.policy
                pieces.append(self.plain.c(x.node))

        def item_label(c, loc):
            out = []
            for piece in pieces:
                if isinstance(piece, str):
                    out.append(piece)
                else:
                    saved, c.stack = c.stack, [[]]  # a label records no event
                    try:
                        v = piece(c, loc)
                    except EvalFailure:
                        v = None
                    finally:
                        c.stack = saved
                    out.append("?" if type(v) is Unknown else display(v))
            return "".join(out)
        return item_label, item_cite


def _items(c, loc):
    """The collection a traced binder has just evaluated, for its strict try (see c_Binder)."""
    return c.items


def note_supplied(c, pv, pid: str, name: str, key, v):
    """A trace event for a parameter value that came from a parameters file, not the policy."""
    src = pv.source(key)
    if src is None or type(v) is Unknown:
        return
    texts = _SUPPLIED_TEXT.get((name, key, src))
    if texts is None:
        text = name if key is None else f"{name}[{format_value(key)}]"
        texts = (text, f"{text} supplied by {src}")
        if len(_SUPPLIED_TEXT) < 4096:
            _SUPPLIED_TEXT[(name, key, src)] = texts
    c.stack[-1].append(event("value", texts[0], "value", jsonable(v), texts[1], None, pid, name))


_SUPPLIED_TEXT: dict = {}  # (parameter, key, file) -> (text, label) of its trace event


def jsonable_in(c, v):
    """`jsonable` for trace events: a list or record met again in the same case is converted once."""
    t = type(v)
    if t in PLAIN_TYPES:
        return v
    if t is list or t is Record:
        hit = c.converted.get(id(v))
        if hit is None:
            hit = c.converted[id(v)] = (v, jsonable(v))  # holding v keeps its id from being reused
        return hit[1]
    return jsonable(v)
