#!/bin/sh
# Dev tool (not CI): checks that every adapter under conformance/adapters/ with an
# adapter.json answers the same in both protocols of conformance/README.md.
#
#   sh conformance/adapters/test_persistent.sh [ADAPTER...]     (default: all of them)
#
# For each adapter: 50 corpus cases (corpus/*.pkl sorted, every 50th) plus a few made-up ones
# (a 100,000-deep tuple, EXT with and without an extension registry, a case after a failing
# case) go through `run` once per case (stdin, BRINE_BUFFERS, BRINE_EXTENSIONS; exit status
# and stdout) and through one `BRINE_PERSISTENT=1 run` (JSON lines); (exit, node) must be
# equal for every case (set items compared in any order: CPython's set order follows the
# process's random hash seed), every answer must name its case, and a scanner (adapter.json
# "scanner": true) must add "globals" and "verdict". An adapter with an encoder gets the same
# check on the documents of the sampled y_ cases (exit status, and pickle bytes or, when they
# differ, what CPython reads back from them). Adapters
# must be installed (target/adapters/, target/release/brine). Exit 1 when anything differs.
# Environment knobs: EVERY=N (default 50), COUNT=N (default 50) and MATCH=SUBSTR (only corpus
# names containing it) choose other corpus samples, e.g. EVERY=1 COUNT=9999 MATCH=resource.
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/../.." || exit 2
exec /usr/bin/python3.11 -c '
import glob, json, os, subprocess, sys, time

ADAPTERS = "conformance/adapters"
TIMEOUT = 120


def sample():
    cases = []
    every = int(os.environ.get("EVERY") or 50)
    match = os.environ.get("MATCH") or ""
    pkls = [p for p in sorted(glob.glob("corpus/*.pkl")) if match in os.path.basename(p)]
    for pkl in pkls[::every][:int(os.environ.get("COUNT") or 50)]:
        meta = json.load(open(pkl[:-4] + ".json"))
        cases.append({"name": meta["name"], "data": open(pkl, "rb").read(),
                      "buffers": meta.get("buffers") or 0,
                      "extensions": meta.get("extensions") or [], "meta": meta})
    ext = bytes.fromhex("8002820129522e")  # EXT1 1, (), REDUCE
    reg = [["copyreg", "_reconstructor", 1]]
    for name, data, exts in [
            ("made_deep_tuple_100k", b"\x80\x02N" + b"\x85" * 100000 + b".", []),
            ("made_ext1_registered", ext, reg),
            ("made_ext1_unregistered", ext, []),
            ("made_ext1_registered_again", ext, reg),
            ("made_bad_opcode", b"\xff", []),
            ("made_after_failure", b"\x80\x03K\x02.", [])]:
        cases.append({"name": name, "data": data, "buffers": 0, "extensions": exts, "meta": {}})
    return cases


def canon(node):
    """node with set/frozenset items in a canonical order: CPython iterates a set of strs in
    an order that depends on the process hash seed, which `python -I` draws at random, so
    two runs of the same adapter may list (and pickle) them differently."""
    if isinstance(node, list):
        return [canon(x) for x in node]
    if not isinstance(node, dict):
        return node
    out = {k: canon(v) for k, v in node.items()}
    key = lambda x: json.dumps(x, sort_keys=True)
    if out.get("t") in ("set", "frozenset") and isinstance(out.get("items"), list):
        out["items"] = sorted(out["items"], key=key)
    call = out.get("new", {}).get("call", {}) if out.get("t") == "object" else {}
    args = out["new"].get("args") if call else None
    if call.get("name") in ("set", "frozenset") and args and args[0].get("t") == "list":
        args[0]["items"] = sorted(args[0]["items"], key=key)  # builtins.set([...]), protocol < 4
    return out


def read_back(data_hex):
    """What CPython (the sandboxed C unpickler) reads from an encoder\x27s bytes."""
    sys.path.insert(0, "scripts")
    import brine_sandbox
    return canon(brine_sandbox.loads_c(bytes.fromhex(data_hex)))


def per_case_decode(cmd, case):
    env = dict(os.environ, BRINE_CASE=case["name"])
    env.pop("BRINE_PERSISTENT", None)
    if case["buffers"]:
        env["BRINE_BUFFERS"] = str(case["buffers"])
    if case["extensions"]:
        env["BRINE_EXTENSIONS"] = json.dumps(case["extensions"])
    p = subprocess.run([cmd], input=case["data"], capture_output=True, env=env, timeout=TIMEOUT)
    out = p.stdout.decode("utf-8").strip()
    return p.returncode, (json.loads(out) if out else None)


def persistent(cmd, requests):
    env = dict(os.environ, BRINE_PERSISTENT="1")
    text = "".join(json.dumps(r) + "\n" for r in requests).encode("utf-8")
    t = time.monotonic()
    p = subprocess.run([cmd], input=text, capture_output=True, env=env, timeout=TIMEOUT * 5)
    elapsed = time.monotonic() - t
    answers = []
    for line in p.stdout.split(b"\n"):  # not splitlines(): JSON strings may hold U+2028
        if line:
            try:
                answers.append(json.loads(line))
            except ValueError as e:
                answers.append({"unreadable": "%s: %r" % (e, line[:200])})
    return p.returncode, answers, elapsed, p.stderr.decode("utf-8", "replace")


def check_decoder(name, cmd, scanner, cases, problems):
    reqs = []
    for c in cases:
        r = {"case": c["name"], "pickle": c["data"].hex()}
        if c["buffers"]:
            r["buffers"] = c["buffers"]
        if c["extensions"]:
            r["extensions"] = c["extensions"]
        reqs.append(r)
    rc, answers, elapsed, err = persistent(cmd, reqs)
    if rc != 0 or len(answers) != len(cases):
        problems.append("%s decode: persistent run exited %s after %d of %d answers; stderr: %s"
                        % (name, rc, len(answers), len(cases), err[-500:]))
    same = 0
    for c, a in zip(cases, answers):
        exit_, node = per_case_decode(cmd, c)
        if a.get("case") != c["name"]:
            problems.append("%s %s: answer names case %r" % (name, c["name"], a.get("case")))
        elif (a.get("exit"), canon(a.get("node"))) != (exit_, canon(node)):
            problems.append("%s %s: per case (%s, %s), persistent (%s, %s)" % (
                name, c["name"], exit_, json.dumps(node)[:200], a.get("exit"),
                json.dumps(a.get("node"))[:200]))
        elif scanner and not (isinstance(a.get("globals"), list)
                              and a.get("verdict") in ("clean", "flagged", "error")):
            problems.append("%s %s: scanner answer without globals/verdict" % (name, c["name"]))
        else:
            same += 1
    print("  decode: %d/%d cases equal; persistent run %.2f s (%.0f cases/s)" % (
        same, len(cases), elapsed, len(cases) / elapsed if elapsed else 0))


def check_encoder(name, cmd, cases, problems):
    docs = [(c["name"], c["meta"]["result"]) for c in cases
            if c["meta"].get("expect") == "y" and not c["meta"].get("buffers")
            and not c["meta"].get("limit")]
    reqs = [{"case": n, "document": d, "protocol": i % 6} for i, (n, d) in enumerate(docs)]
    rc, answers, elapsed, err = persistent(cmd, reqs)
    if rc != 0 or len(answers) != len(reqs):
        problems.append("%s encode: persistent run exited %s after %d of %d answers; stderr: %s"
                        % (name, rc, len(answers), len(reqs), err[-500:]))
    same = 0
    for r, a in zip(reqs, answers):
        env = dict(os.environ, BRINE_CASE=r["case"], BRINE_PROTOCOL=str(r["protocol"]))
        env.pop("BRINE_PERSISTENT", None)
        p = subprocess.run([cmd], input=json.dumps(r["document"]).encode("utf-8"),
                           capture_output=True, env=env, timeout=TIMEOUT)
        per_case = (p.returncode, p.stdout.hex() if p.returncode == 0 else None)
        got = (a.get("exit"), a.get("pickle"))
        if a.get("case") != r["case"]:
            problems.append("%s encode %s: answer names case %r" % (name, r["case"], a.get("case")))
        elif per_case != got and (per_case[0] != got[0] or per_case[0] != 0
                                  or read_back(per_case[1]) != read_back(got[1])):
            problems.append("%s encode %s: per case %s, persistent %s" % (name, r["case"], per_case, got))
        else:
            same += 1
    print("  encode: %d/%d documents equal; persistent run %.2f s" % (same, len(reqs), elapsed))


def main(only):
    cases = sample()
    problems = []
    for conf in sorted(glob.glob(ADAPTERS + "/*/adapter.json")):
        meta = json.load(open(conf))
        d = os.path.dirname(conf)
        name = os.path.basename(d)
        if only and name not in only:
            continue
        print("%s (persistent: %s, scanner: %s)" % (name, meta.get("persistent", False),
                                                    meta.get("scanner", False)))
        if not meta.get("persistent"):
            print("  skipped: not persistent")
            continue
        check_decoder(name, os.path.join(d, "run"), meta.get("scanner"), cases, problems)
        if meta.get("encoder"):
            check_encoder(name, os.path.join(d, meta["encoder"]), cases, problems)
    for p in problems:
        print("FAIL", p)
    print("ok" if not problems else "%d problem(s)" % len(problems))
    return 1 if problems else 0


# documents nest 100,000 deep: json and == recurse on them
import threading
sys.setrecursionlimit(1_000_000)
threading.stack_size(1 << 29)
result = []
t = threading.Thread(target=lambda: result.append(main(sys.argv[1:])))
t.start()
t.join()
sys.exit(result[0] if result else 3)
' "$@"
