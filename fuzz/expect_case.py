#!/usr/bin/python3.11
"""Expected outcome of one pickle, in corpus/'s format (scripts/gen_corpus.py's NAME.pkl +
NAME.json), for `cargo xtask triage`'s proposed cases.

    PYTHONHASHSEED=0 /usr/bin/python3.11 fuzz/expect_case.py --pkl F --hint H --out DIR \
        [--buffers N] [--note TEXT]

Loads the pickle with CPython's C and Python unpicklers in scripts/brine_sandbox.py and
classifies it with gen_corpus.classify (y_ accepted, n_ rejected alike, i_ the two disagree
or a limit), so a proposed case is made exactly as the corpus's own are. Writes
DIR/<y|n|i>_<hint>.pkl and .json and prints that name.
"""
import argparse, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "scripts"))
import brine_sandbox as sb  # noqa: E402
import gen_corpus as gc  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pkl", required=True)
    ap.add_argument("--hint", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--buffers", type=int, default=0)
    ap.add_argument("--note", default="")
    args = ap.parse_args()
    with open(args.pkl, "rb") as f:
        data = f.read()
    c = sb.loads_c(data, args.buffers)
    py = sb.loads_py(data, args.buffers)
    ops = sb.genops_json(data)
    limit = c.get("type") in gc.LIMIT_TYPES or py.get("type") in gc.LIMIT_TYPES
    cls = gc.classify(c, py, limit)
    name = f"{cls}_{gc.slug(args.hint)}"
    meta = {"name": name, "expect": cls, "result": c, "python": py, "ops": ops,
            "provenance": "generated: cargo xtask fuzz (minimized by cargo xtask triage)",
            "from": args.hint}
    if args.buffers:
        meta["buffers"] = args.buffers
    if limit:
        meta["limit"] = True
    if args.note:
        meta["note"] = args.note
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, name + ".pkl"), "wb") as f:
        f.write(data)
    with open(os.path.join(args.out, name + ".json"), "w") as f:
        json.dump(meta, f, separators=(",", ":"))
    print(name)


if __name__ == "__main__":
    sb.run_on_big_stack(main)
