"""Every distinct non-empty bytes literal of CPython's Lib/test/pickletester.py
(decode/pickletester.jsonl): the streams CPython tests its own unpicklers with, named by
where they occur (enclosing function or class, or the assigned name)."""

import ast
import glob
import os
import sys


def pickletester_literals():
    paths = sorted(glob.glob("/root/.pyenv/versions/*/lib/python3.11/test/pickletester.py"))
    paths += ["/usr/lib/python3.11/test/pickletester.py"]
    path = next((p for p in paths if os.path.exists(p)), None)
    if path is None:
        print("warning: no pickletester.py found; pickletester.jsonl will be empty",
              file=sys.stderr)
        return None, []
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    # context names: nearest enclosing function/class or assignment target
    parent = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parent[child] = node

    def context(node):
        names = []
        n = parent.get(node)
        while n is not None:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.append(n.name)
            elif isinstance(n, ast.Assign) and not names:
                tgt = n.targets[0]
                if isinstance(tgt, ast.Name):
                    names.append(tgt.id)
            n = parent.get(n)
        return ".".join(reversed(names)) or "module"

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, bytes) and node.value:
            found.append((node.lineno, node.col_offset, node.value, context(node)))
    found.sort()
    seen = set()
    out = []
    counters = {}
    for lineno, col, value, ctx in found:
        if value in seen:
            continue
        seen.add(value)
        k = counters.get(ctx, 0)
        counters[ctx] = k + 1
        out.append(("pickletester/%s/%d" % (ctx, k), value, "pickletester.py line %d" % lineno))
    return path, out


def pickletester_tasks():
    """(path of pickletester.py or None, decode tasks)"""
    path, literals = pickletester_literals()
    return path, [(name, "pickletester", data, 0, note) for name, data, note in literals]
