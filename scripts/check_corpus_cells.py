#!/usr/bin/python3.11
"""Counts the corpus's (opcode, protocol) cells and its failing opcodes, from corpus/ alone.

    /usr/bin/python3.11 scripts/check_corpus_cells.py [--corpus DIR] [--json]

The counting rule (issue 17; `cargo xtask conformance` reports the same numbers, from the
codec's opcode table, in its "corpus cells" section):
- every corpus/*.pkl is disassembled with pickletools.genops; a stream's protocol is the
  argument of its first PROTO opcode, 0 when it has none (a PROTO above 5 puts the stream in
  no cell: CPython rejects it);
- a cell is (opcode, protocol) for every opcode in pickletools.opcodes and every protocol
  from the opcode's own `proto` up to 5; a y_ case reaches the cell of every opcode genops
  yields (up to STOP, all of which CPython ran successfully);
- an opcode that can fail (all but MARK, NONE, NEWTRUE, NEWFALSE, EMPTY_LIST, EMPTY_DICT,
  EMPTY_TUPLE, EMPTY_SET) is covered on its error path by an n_ case whose NAME.json says
  `"fails_at": {"op": NAME, "pos": N}`, checked here against genops: the opcode at byte N
  is NAME (or genops raised before N, and byte N is NAME's: an argument cut short, or one
  pickletools is stricter about than the unpickler).
  The opcodes of IMPLEMENTATION_DEFINED (below) fail only in ways where CPython's C and
  pure-Python unpicklers raise different exception classes, so no n_ case can fail at them:
  for those an i_ case failing at them (same "fails_at") is required instead.

Prints the figures and every missing cell; exit status 1 when any is missing.
"""
import argparse, json, os, pickletools, sys

CANNOT_FAIL = {"MARK", "NONE", "NEWTRUE", "NEWFALSE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_TUPLE", "EMPTY_SET"}
# Every way these opcodes can fail in the sandbox gives different exception classes in C and
# pure Python (scripts/gen_corpus_cells.py tries candidates and lists them): stack underflow and
# a missing MARK are UnpicklingError in C and IndexError in Python; a one-byte argument cut
# short is UnpicklingError in C, IndexError in Python (read(1)[0] of b""); NEWOBJ's operand
# checks are UnpicklingError in C, TypeError in Python (cls.__new__), and a stand-in class's
# __new__ never fails; OBJ on something not callable is TypeError in C, AttributeError in
# Python (its _instantiate reads klass.__name__ to word the error), and stand-ins never fail.
IMPLEMENTATION_DEFINED = {
    "LIST": "no MARK", "TUPLE": "no MARK", "POP_MARK": "no MARK",
    "TUPLE1": "stack underflow", "TUPLE2": "stack underflow", "TUPLE3": "stack underflow",
    "POP": "stack underflow", "DUP": "stack underflow", "MEMOIZE": "stack underflow",
    "STOP": "stack underflow", "BINPERSID": "stack underflow",
    "BINPUT": "stack underflow, or its one-byte argument cut",
    "BININT1": "its one-byte argument cut",
    "NEWOBJ": "operand checks (C) vs cls.__new__ (Python)",
    "OBJ": "not callable: TypeError (C) vs AttributeError (Python)",
}
NAMES = {op.name: op for op in pickletools.opcodes}
BY_CODE = {op.code.encode("latin-1")[0]: op for op in pickletools.opcodes}


def walk(data):
    """[(opcode name, pos)] genops yields, and the position where it raised (or None)."""
    out = []
    try:
        for op, arg, pos in pickletools.genops(data):
            out.append((op.name, pos, arg))
    except Exception:
        return out, True
    return out, False


def stream_protocol(ops):
    for name, _, arg in ops:
        if name == "PROTO":
            return arg
    return 0


def count(corpus):
    cells = {(op.name, p) for op in pickletools.opcodes for p in range(op.proto, 6)}
    failable = {op.name for op in pickletools.opcodes if op.name not in CANNOT_FAIL}
    reached, failing, failing_i, bad = set(), set(), set(), []
    n_cases = {"y": 0, "n": 0, "i": 0}
    for f in sorted(os.listdir(corpus)):
        if not (f.endswith(".json") and f[:2] in ("y_", "n_", "i_")):
            continue
        with open(os.path.join(corpus, f)) as fh:
            meta = json.load(fh)
        with open(os.path.join(corpus, f[:-5] + ".pkl"), "rb") as fh:
            data = fh.read()
        n_cases[f[0]] += 1
        ops, raised = walk(data)
        if f.startswith("y_"):
            p = stream_protocol(ops)
            if 0 <= p <= 5:
                reached.update((name, p) for name, _, _ in ops if (name, p) in cells)
        elif meta.get("fails_at"):
            fa = meta["fails_at"]
            at = [name for name, pos, _ in ops if pos == fa["pos"]]
            # NAME at byte N; or genops raised before N (pickletools is stricter about some
            # arguments than the unpickler, which went on) and byte N is NAME's
            stopped_before = raised and (not ops or ops[-1][1] < fa["pos"])
            ok = at == [fa["op"]] or (not at and stopped_before and fa["pos"] < len(data)
                                      and BY_CODE.get(data[fa["pos"]]) is NAMES.get(fa["op"]))
            if ok:
                (failing if f.startswith("n_") else failing_i).add(fa["op"])
            else:
                bad.append((f[:-5], fa))
    return {
        "cases": n_cases,
        "cells": len(cells), "cells_reached": len(reached & cells),
        "missing_cells": sorted(cells - reached, key=lambda c: (c[1], c[0])),
        "failable": len(failable), "failable_reached": len(failing & failable),
        "failable_i_only": sorted((failable - failing) & failing_i & set(IMPLEMENTATION_DEFINED)),
        "missing_failing": sorted(o for o in failable - failing
                                  if o not in IMPLEMENTATION_DEFINED or o not in failing_i),
        "bad_fails_at": bad,
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "corpus"))
    ap.add_argument("--json", action="store_true")
    a = ap.parse_args()
    r = count(a.corpus)
    if a.json:
        print(json.dumps(r))
    else:
        print(f"cases: {r['cases']}")
        print(f"y_ cells: {r['cells_reached']} of {r['cells']} (opcode, protocol) pairs")
        print(f"n_ failing opcodes: {r['failable_reached']} of {r['failable']}; "
              f"{len(r['failable_i_only'])} more fail only in i_ cases (C and Python raise different "
              f"classes wherever they can fail): {', '.join(r['failable_i_only'])}")
        for name, p in r["missing_cells"]:
            print(f"missing y_ cell: {name} at protocol {p}")
        for name in r["missing_failing"]:
            why = IMPLEMENTATION_DEFINED.get(name)
            print(f"missing {'i_' if why else 'n_'} case failing at: {name}" + (f" ({why})" if why else ""))
        for name, fa in r["bad_fails_at"]:
            print(f"fails_at does not match genops: {name} {fa}")
    sys.stdout.flush()
    os._exit(1 if r["missing_cells"] or r["missing_failing"] or r["bad_fails_at"] else 0)


if __name__ == "__main__":
    # NAME.json of the deep resource cases nests thousands of levels: json needs a big stack
    import threading
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 29)
    t = threading.Thread(target=main)
    t.start()
    t.join()
