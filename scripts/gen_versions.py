"""What one interpreter does with every conformance case: the raw data of per-version
expectations (docs/versions.md, conformance/versions/X.Y.jsonl).

    target/pythons/bin/python3.14 scripts/gen_versions.py > target/versions/raw/3.14.jsonl

Runs under any interpreter brine knows (CPython 3.9 to 3.15, PyPy; see scripts/pythons.sh),
with the same sandbox as the 3.11 reference (brine_sandbox.py: nothing a pickle names is
imported or run), and writes JSON lines to stdout:

    {"header": true, "python": sys.version, "version": "3.14", "implementation": "cpython",
     "c_pickle": true}
    {"set": "decode", "name": CASE, "c": NODE, "python": NODE}
        every case of conformance/decode/*.jsonl: the node (or error node) that this
        interpreter's C unpickler (pickle.loads; PyPy 3.9's pure-Python one) and its
        pure-Python pickle._Unpickler build
    {"set": "encode", "name": CASE, "pickle": HEX | "error": CLASS, "value"?: DOC}
        every value of conformance/encode/*.jsonl: pickle.dumps(value, protocol) by this
        interpreter; "value" is the document as this interpreter holds the object, given only
        when it differs from the stored one (set iteration order follows the str/None hash,
        which changed in 3.11 and 3.12), so that an encoder given that document owes exactly
        these bytes

Deterministic: it re-executes itself with PYTHONHASHSEED=0. Memory is capped (3 GiB address
space, as scripts/gen_conformance.py caps it for the 3.11 baseline), so a hostile case that makes CPython allocate its declared length gives MemoryError.
The comparison with 3.11, the expectation files and docs/versions.md are brine's job
(`cargo xtask versions`); this script only observes.
"""
import json
import os
import pickle
import resource
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import brine_sandbox as sb  # noqa: E402


def _deep_decoder():
    """A json decoder whose scanner is pure Python: its recursion is bounded by the recursion
    limit, which main() raises, where the C scanner's is fixed in 3.12-3.13."""
    import json.scanner
    d = json.JSONDecoder()
    d.scan_once = json.scanner.py_make_scanner(d)
    return d


_DEEP = _deep_decoder()


def parse(line):
    try:
        return json.loads(line)
    except RecursionError:
        return _DEEP.decode(line)


def cases(kind):
    """The stored cases of conformance/KIND/*.jsonl (headers skipped), in file order."""
    base = os.path.join(REPO, "conformance", kind)
    for f in sorted(os.listdir(base)):
        if not f.endswith(".jsonl"):
            continue
        with open(os.path.join(base, f)) as lines:
            for line in lines:
                if line.strip():
                    case = parse(line)
                    if not case.get("header"):
                        yield case


def write(obj):
    sys.stdout.write(sb.dumps_json(obj))
    sys.stdout.write("\n")


def main():
    resource.setrlimit(resource.RLIMIT_AS, (3 << 30, resource.RLIM_INFINITY))
    write({"header": True, "python": sys.version, "version": "%d.%d" % sys.version_info[:2],
           "implementation": sys.implementation.name, "c_pickle": sb._pickle is not None})
    for case in cases("decode"):
        data = bytes.fromhex(case["pickle"])
        buffers = case.get("buffers", 0)
        extensions = case.get("extensions")
        write({"set": "decode", "name": case["name"],
               "c": sb.loads_c(data, buffers, extensions=extensions),
               "python": sb.loads_py(data, buffers, extensions=extensions)})
    for case in cases("encode"):
        out = {"set": "encode", "name": case["name"]}
        try:
            obj = sb.doc_to_object(case["value"])
            out["pickle"] = pickle.dumps(obj, case["protocol"]).hex()
            held = sb.to_json(obj)
            if sb.dumps_json(held) != sb.dumps_json(case["value"]):
                out["value"] = held
        except Exception as e:  # e.g. an int past the digit limit at protocol 0
            out.pop("pickle", None)
            out["error"] = type(e).__name__
        write(out)
    sys.stdout.flush()


if __name__ == "__main__":
    sb.reexec_with_fixed_hash_seed()
    sys.setrecursionlimit(1_000_000)
    sb.run_on_big_stack(main)
