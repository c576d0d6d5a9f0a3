"""The evaluation package's shape: one behaviour per module, imports one way (no cycles), and no
evaluator that switches on another's mode."""
import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "interpreter" / "evaluation"


def _imports() -> dict[str, set[str]]:
    out = {}
    for path in PACKAGE.glob("*.py"):
        tree = ast.parse(path.read_text())
        names = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                names.add(node.module.split(".")[0])
        out[path.stem] = names
    return out


def test_the_evaluation_modules_import_each_other_without_cycles():
    graph = _imports()
    done, active = set(), []

    def visit(m):
        assert m not in active, " -> ".join(active + [m])
        if m in done:
            return
        active.append(m)
        for n in graph.get(m, ()):
            visit(n)
        active.pop()
        done.add(m)
    for m in graph:
        visit(m)


def test_the_reference_evaluator_uses_no_compiled_back_end():
    assert _imports()["reference"] <= {"errors", "rules", "data", "counting", "budget"}


def test_no_back_end_has_a_mode_flag():
    """The old compiler switched on `self.traced` and `self.strict`; each back-end is now its own class."""
    for name in ("kleene", "strict", "traced", "reference", "analysis"):
        text = (PACKAGE / f"{name}.py").read_text()
        assert "self.traced" not in text and "self.strict" not in text, name
