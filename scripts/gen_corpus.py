#!/usr/bin/python3.11
"""Builds corpus/: brine's regression corpus for every pickle implementation.

    /usr/bin/python3.11 scripts/gen_corpus.py [--max N]

Each case is NAME.pkl plus NAME.json beside it; NAME starts with y_ (CPython's C unpickler
accepts it: "result" is the pickle JSON it builds), n_ (it rejects it: "result" is the error
node, compare the exception class), or i_ (implementation-defined: CPython's C and Python
unpicklers disagree, or the outcome is a resource limit). corpus/manifest.json lists every
case; `cargo xtask conformance` fails when one goes missing.

Cases are drawn from conformance/decode/*.jsonl (every hand-written case, every CPython test
pickle and stdlib value, mutations chosen for new (opcode, exception) pairs, and every campaign
finding promoted by scripts/promote_findings.py) and their
expectations are recomputed here, live, by the sandboxed CPython in brine_sandbox.py: nothing
is typed by hand. Deterministic for a given conformance/ and interpreter (the script
re-executes itself with PYTHONHASHSEED=0, as gen_conformance.py does).
"""
import argparse, json, os, re, sys, resource

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import brine_sandbox as sb  # noqa: E402
import corpus_checks as cc  # noqa: E402

PROVENANCE = {
    "values": "generated: pickle.dumps of a builtin/stdlib value",
    "handwritten": "hand-written",
    "pickletester": "CPython test: Lib/test/pickletester.py",
    "mutation": "generated: mutation of a CPython pickle (truncate/flip/insert/delete)",
    "campaign": "generated: a campaign finding against another implementation (cargo xtask fuzz --impl), minimized",
    "versions": "generated: a pickle whose outcome differs between CPython versions (cargo xtask versions), minimized",
    "cells": "generated: scripts/gen_corpus_cells.py, a snippet per (opcode, protocol) cell, per failing opcode, or EXT with a declared extension registry",
}
MAX_PICKLE = 64 * 1024
# NAME.json lists the genops stream ("ops") only for pickles of at most this many opcodes;
# longer ones (deep and large resource shapes) say "ops_omitted": N instead, and a reader
# disassembles the .pkl itself. Keeps corpus/ under 10 MB (corpus/README.md).
MAX_OPS_LISTED = 256
LIMIT_TYPES = {"MemoryError", "RecursionError", "Timeout"}


def read_jsonl(path):
    with open(path) as f:
        for line in f:
            if line.strip():
                v = json.loads(line)
                if not v.get("header"):
                    yield v


def canon(node):
    """Comparable form of a node: errors by class, values by canonical JSON."""
    if node.get("t") == "error":
        return ("error", node.get("type"))
    return ("value", json.dumps(node, sort_keys=True))


def classify(c, py, limit):
    if limit or c.get("type") in LIMIT_TYPES or py.get("type") in LIMIT_TYPES:
        return "i"
    if canon(c) != canon(py):
        return "i"
    return "n" if c.get("t") == "error" else "y"


def failing_op(genops, pickle, c):
    """(opcode name at the error offset by genops' view, exception class) for novelty."""
    if c.get("t") != "error":
        return None
    last = genops[-1] if genops else {}
    name = last.get("op") or (genops[-2].get("op") if len(genops) > 1 else "?")
    return (name, c.get("type"))


def slug(s):
    s = re.sub(r"[^A-Za-z0-9_.-]+", "_", s).strip("_")
    return s[:110]


VERSIONS_NOTE = "differs by CPython version:"

# What real globals do with each mutation that reached a bare global in the accepting variant
# (corpus_checks.global_dependence): the note of a case made i_ by the rule in docs/sandbox.md.
GLOBAL_MUTATION_NOTES = {
    "build": "BUILD on a bare global: a global whose __setstate__ accepts this state accepts it, "
             "and without __setstate__ so does one with a writable __dict__ (a function) for dict state "
             "or a no-op state; a class whose __setstate__ is an instance method rejects it (TypeError), "
             "and a class without __setstate__ rejects a non-empty dict state (its __dict__ is a read-only "
             "mappingproxy: TypeError)",
    "build-slots": "BUILD with slot state on a bare global: plain Python classes, functions and modules "
                   "accept the attribute assignments (so does any global with a __setstate__ that takes the "
                   "state); builtin and other immutable types reject them (TypeError), as brine's read-only "
                   "stand-ins do (AttributeError)",
    "append": "APPEND/APPENDS on a bare global: a list global (e.g. sys.path) or any global with "
              "append/extend methods accepts it; classes, functions and modules without them reject it "
              "(AttributeError; a class such as list, whose append is an unbound method, TypeError)",
    "setitem": "SETITEM/SETITEMS on a bare global: a mutable mapping global (e.g. os.environ, a module-level "
               "dict) accepts it; classes, functions and modules reject it (TypeError: no item assignment)",
    "add": "ADDITEMS on a bare global: a set global or any global with an add method accepts it; classes, "
           "functions and modules reject it (AttributeError)",
    "setattr": "attribute assignment on a bare global: plain classes, functions and modules accept it; "
               "builtin types and brine's read-only stand-ins reject it",
}
SANDBOX_NOTE = "sandbox-dependent (docs/sandbox.md): brine's stand-in gives {cls}, but "


def version_outcomes():
    """conformance/versions/X.Y.jsonl (written by `cargo xtask versions`) as
    {case name: {"c": {version: node}, "python": {version: node}}}."""
    out = {}
    base = os.path.join(REPO, "conformance", "versions")
    if not os.path.isdir(base):
        return out
    for f in sorted(os.listdir(base), key=lambda f: [int(x) for x in f[:-6].split(".")] if f.endswith(".jsonl") else []):
        if not f.endswith(".jsonl"):
            continue
        version = f[:-len(".jsonl")]
        for v in read_jsonl(os.path.join(base, f)):
            if v.get("set") != "decode":
                continue
            entry = out.setdefault(v["name"], {"c": {}, "python": {}})
            for side in ("c", "python"):
                if side in v:
                    entry[side][version] = v[side]
    return out


def apply_versions(meta, outcomes):
    """Sets a case's "versions" (C) and "python_versions" (pure Python): each CPython version
    whose outcome differs from 3.11's, with its node; says so in the note. The y_/n_/i_ class
    stays 3.11's (docs/versions.md)."""
    meta.pop("versions", None)
    meta.pop("python_versions", None)
    note = meta.get("note", "")
    if VERSIONS_NOTE in note:
        note = note[:note.index(VERSIONS_NOTE)].rstrip("; ")
    entry = outcomes.get(meta["from"])
    parts = []
    if entry:
        if entry["c"]:
            meta["versions"] = entry["c"]
            parts.append("C in " + ", ".join(entry["c"]))
        if entry["python"]:
            meta["python_versions"] = entry["python"]
            parts.append("pure-Python in " + ", ".join(entry["python"]))
    if parts:
        note = (note + "; " if note else "") + VERSIONS_NOTE + " " + "; ".join(parts) + " (docs/versions.md)"
    if note:
        meta["note"] = note
    else:
        meta.pop("note", None)


def versions_only(out):
    """--versions-only: refresh the per-version fields of the existing corpus in place."""
    outcomes = version_outcomes()
    changed = 0
    for f in sorted(os.listdir(out)):
        if not (f.endswith(".json") and f[:2] in ("y_", "n_", "i_")):
            continue
        path = os.path.join(out, f)
        with open(path) as fh:
            text = fh.read()
        meta = json.loads(text)
        apply_versions(meta, outcomes)
        new = json.dumps(meta, separators=(",", ":"))
        if new != text:
            with open(path, "w") as fh:
                fh.write(new)
            changed += 1
    print(f"corpus: per-version fields refreshed, {changed} files changed")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--max", type=int, default=3000)
    ap.add_argument("--out", default=os.path.join(REPO, "corpus"))
    ap.add_argument("--versions-only", action="store_true",
                    help="only refresh the per-version fields from conformance/versions/")
    args = ap.parse_args()
    if args.versions_only:
        versions_only(args.out)
        return
    outcomes = version_outcomes()
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, resource.RLIM_INFINITY))
    src = os.path.join(REPO, "conformance", "decode")
    chosen = []
    for stem in ("handwritten", "pickletester", "values"):
        for path in sb.jsonl_shards(src, stem):
            chosen.extend(read_jsonl(path))
    seen_fail = set()
    for v in chosen:
        seen_fail.add(failing_op(v.get("genops") or [], v["pickle"], v["c"]))
    diffs = set()
    mutations = (v for path in sb.jsonl_shards(src, "mutations") for v in read_jsonl(path))
    for v in mutations:
        if len(chosen) >= args.max:
            break
        key = failing_op(v.get("genops") or [], v["pickle"], v["c"])
        dkey = (canon(v["c"])[0], v["c"].get("type"), v["python"].get("type"))
        new_diff = canon(v["c"]) != canon(v["python"]) and dkey not in diffs
        if (key and key not in seen_fail) or new_diff:
            seen_fail.add(key)
            diffs.add(dkey)
            chosen.append(v)
    # Campaign findings (scripts/promote_findings.py) are each a distinct discrepancy of some
    # implementation: all of them go in, whatever --max says.
    chosen.extend(v for path in sb.jsonl_shards(src, "campaigns") for v in read_jsonl(path))
    # So is every pickle `cargo xtask versions` found to behave differently across versions.
    chosen.extend(v for path in sb.jsonl_shards(src, "versions") for v in read_jsonl(path))
    # And every pickle of scripts/gen_corpus_cells.py: a y_ case per (opcode, protocol) cell,
    # an n_ case per failing opcode, EXT with a declared registry.
    chosen.extend(v for path in sb.jsonl_shards(src, "cells") for v in read_jsonl(path))
    os.makedirs(args.out, exist_ok=True)
    for f in os.listdir(args.out):
        if f.endswith((".pkl", ".json")) and f[:2] in ("y_", "n_", "i_"):
            os.remove(os.path.join(args.out, f))
    names, counts, seen_names = [], {"y": 0, "n": 0, "i": 0}, set()
    sandbox_dependent = 0
    for v in chosen:
        data = bytes.fromhex(v["pickle"])
        if len(data) > MAX_PICKLE:
            continue
        buffers = v.get("buffers", 0)
        extensions = [tuple(e) for e in v["extensions"]] if v.get("extensions") else None
        # Live, so the corpus never depends on how conformance/ was produced.
        c = sb.loads_c(data, buffers, extensions=extensions)
        py = sb.loads_py(data, buffers, extensions=extensions)
        ops = sb.genops_json(data)
        limit = bool(v.get("limit"))
        cls = classify(c, py, limit)
        # A y_/n_ class that changes when the globals accept or reject what is done to them
        # is the sandbox's, not CPython's: implementation-defined (docs/sandbox.md).
        dependent = cc.global_dependence(data, cls, buffers, extensions) if cls != "i" else None
        if dependent:
            classes, hooks = dependent
            sandbox_cls = cls
            cls = "i"
            sandbox_dependent += 1
        base = f"{cls}_{slug(v['name'].split('/', 1)[-1])}"
        name, k = base, 2
        while name in seen_names:
            name, k = f"{base}_{k}", k + 1
        seen_names.add(name)
        meta = {"name": name, "expect": cls, "result": c, "python": py}
        if sum(1 for o in ops if "op" in o) <= MAX_OPS_LISTED:
            meta["ops"] = ops
        else:
            meta["ops_omitted"] = sum(1 for o in ops if "op" in o)
        meta["provenance"] = PROVENANCE.get(v.get("source"), v.get("source"))
        meta["from"] = v["name"]
        if buffers:
            meta["buffers"] = buffers
        if extensions:
            meta["extensions"] = [list(e) for e in extensions]
        if c.get("t") == "error":
            # where it fails: the opcode the pure-Python unpickler raised in, checked
            # against genops (scripts/check_corpus_cells.py counts n_ cases by it)
            fa = cc.failing_opcode(data, buffers, extensions)
            if fa:
                meta["fails_at"] = fa
        if limit or cls == "i" and (c.get("type") in LIMIT_TYPES or py.get("type") in LIMIT_TYPES):
            meta["limit"] = True
        note = v.get("note", "")
        if dependent:
            what = "; ".join(GLOBAL_MUTATION_NOTES[h] for h in hooks) or "a mutation of a bare global"
            note = (note + "; " if note else "") + SANDBOX_NOTE.format(cls=sandbox_cls + "_") + \
                f"a global that accepts every mutation gives {classes['accepting']}_ and one that rejects " \
                f"every mutation gives {classes['rejecting']}_. {what}"
        if note:
            meta["note"] = note
        apply_versions(meta, outcomes)
        with open(os.path.join(args.out, name + ".pkl"), "wb") as f:
            f.write(data)
        with open(os.path.join(args.out, name + ".json"), "w") as f:
            json.dump(meta, f, separators=(",", ":"))
        names.append(name)
        counts[cls] += 1
    names.sort()
    with open(os.path.join(args.out, "manifest.json"), "w") as f:
        json.dump({"generator": "scripts/gen_corpus.py", "python": sys.version,
                   "count": len(names), "counts": counts, "cases": names}, f, indent=0)
    print(f"corpus: {len(names)} cases ({counts}) in {args.out}; {sandbox_dependent} made i_ as sandbox-dependent")


if __name__ == "__main__":
    sb.reexec_with_fixed_hash_seed()
    sb.run_on_big_stack(main)
