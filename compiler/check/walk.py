"""Walking an expression tree: every node, iteratively (deep trees are fine)."""

from __future__ import annotations

from collections.abc import Iterator

from prefc.compiler import ast

__all__ = ["walk"]


def walk(expr) -> Iterator:
    """Yield every node of an expression tree (iteratively, so deep trees are fine)."""
    stack = [expr]
    while stack:
        node = stack.pop()
        if node is None:
            continue
        yield node
        if isinstance(node, (ast.BinOp, ast.Compare, ast.BoolOp)):
            stack.extend((node.left, node.right))
        elif isinstance(node, (ast.Neg, ast.Not)):
            stack.append(node.operand)
        elif isinstance(node, ast.IfExpr):
            stack.extend((node.cond, node.then, node.orelse))
        elif isinstance(node, ast.Attr):
            stack.append(node.base)
        elif isinstance(node, ast.Index):
            stack.append(node.index)
        elif isinstance(node, ast.Call):
            stack.extend(node.args)
        elif isinstance(node, ast.Binder):
            stack.extend((node.where, node.body))
        elif isinstance(node, ast.Table):
            stack.extend(node.keys)
            stack.extend(r.value for r in node.rows)
