#!/usr/bin/python3.11
"""Promotes campaign findings into the conformance cases and the corpus.

    /usr/bin/python3.11 scripts/promote_findings.py target/campaigns/NAME [...]
    (or: cargo xtask promote --impl NAME)

For every discrepancy class of an implementation (status and exception class; for a scanner,
the signature, which names the bypass) that the corpus does not already show (`covered_by`
in a KEY.json of the class: a corpus case with the same kind and the same opcodes), takes
the class's smallest reproducer and, unless a conformance case holds that pickle already,
appends one decode case to conformance/decode/campaigns.jsonl with its expectations computed here, live, by the
sandboxed CPython of brine_sandbox.py (the C and Python unpicklers' results and
pickletools.genops), exactly as gen_conformance.py makes the others. scripts/gen_corpus.py
then takes every case of that set into corpus/ (run it next; `cargo xtask promote` does).

Findings that need an extension registry are left out (the corpus is loaded with the spec's
empty registry; issue 17 adds per-case registries). Nothing is typed by hand.
"""
import glob, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import brine_sandbox as sb  # noqa: E402

OUT = os.path.join(REPO, "conformance", "decode", "campaigns.jsonl")


def known_pickles():
    seen = set()
    for path in sorted(glob.glob(os.path.join(REPO, "conformance", "decode", "*.jsonl"))):
        with open(path) as f:
            for line in f:
                if '"pickle"' in line:
                    v = json.loads(line)
                    if "pickle" in v:
                        seen.add(v["pickle"])
    return seen


def main():
    dirs = sys.argv[1:]
    if not dirs:
        print(__doc__)
        return 2
    seen = known_pickles()
    lines, skipped = [], {"known": 0, "covered": 0, "extensions": 0, "same class": 0}
    # One case per discrepancy class (implementation, status and exception class; for a
    # scanner, its signature, which names the bypass): the smallest reproducer, unless the
    # corpus already shows the class.
    groups = {}
    for d in dirs:
        for path in sorted(glob.glob(os.path.join(d, "findings", "*.json"))):
            with open(path) as f:
                j = json.load(f)
            j["_key"] = os.path.splitext(os.path.basename(path))[0]
            if j["status"] in ("miss", "fail-open"):
                cls = (j["implementation"], j["signature"])
            else:
                cls = (j["implementation"], j["status"], j["class"])
            groups.setdefault(cls, []).append(j)
    for cls, members in sorted(groups.items()):
        if any(m.get("covered_by") for m in members):
            skipped["covered"] += len(members)
            continue
        members.sort(key=lambda m: (len(m["pickle"]), m["signature"]))
        j, rest = members[0], members[1:]
        skipped["same class"] += len(rest)
        if j.get("extensions"):
            skipped["extensions"] += 1
            continue
        if j["pickle"] in seen:
            skipped["known"] += 1
            continue
        data = bytes.fromhex(j["pickle"])
        buffers = j.get("buffers") or 0
        case = {"name": f"campaign/{j['implementation']}/{j['_key']}", "source": "campaign",
                "pickle": j["pickle"],
                "c": sb.loads_c(data, buffers), "python": sb.loads_py(data, buffers),
                "genops": sb.genops_json(data),
                "note": f"{j['implementation']} {j['version']}: {j['signature']} "
                        f"(found by {j['found_by']['campaign']} seed {j['found_by']['seed']} "
                        f"case {j['found_by']['case']})"}
        if buffers:
            case["buffers"] = buffers
        lines.append(case)
        seen.add(j["pickle"])
    if lines:
        new_file = not os.path.exists(OUT)
        with open(OUT, "a") as f:
            if new_file:
                f.write(json.dumps({"header": True, "python": sys.version,
                                    "generator": "scripts/promote_findings.py"}) + "\n")
            for case in lines:
                f.write(json.dumps(case, separators=(",", ":")) + "\n")
    print(f"promote: {len(lines)} new cases -> {os.path.relpath(OUT, REPO)} "
          f"(skipped: {skipped['known']} already there, {skipped['covered']} of classes the corpus shows, "
          f"{skipped['same class']} with a smaller reproducer of their class, "
          f"{skipped['extensions']} needing an extension registry)")
    return 0


if __name__ == "__main__":
    sys.exit(sb.run_on_big_stack(main) or 0)
