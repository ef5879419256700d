#!/usr/bin/python3.11
"""Per-version fixtures for the codec's `--python X.Y` modes: what each CPython does.

    /usr/bin/python3.11 scripts/gen_version_fixtures.py            # needs target/pythons/
    target/pythons/bin/python3.14 scripts/gen_version_fixtures.py --emit   # one interpreter

Runs itself with --emit under every CPython brine models (the host's /usr/bin/python3.11 and
the wrappers scripts/pythons.sh builds in target/pythons/bin/) and writes
crates/brine-codec/tests/data/python_versions.json:

    {"generator", "interpreters": {"3.9": "3.9.2 (...)", ...},
     "decode": [{"name", "pickle": HEX, "buffers"?: N, "expect": {"3.9": NODE, ...}}],
     "encode": [{"name", "protocol", "value": DOC | "recipe": RECIPE,
                 "expect": [{"versions": [...], "pickle": HEX}
                            | {"versions": [...], "len": N, "fnv1a64": HEX16}
                            | {"versions": [...], "error": CLASS}]}]}

A decode expectation is the C unpickler's outcome in the sandbox (scripts/brine_sandbox.py:
loads_c, nothing a pickle names is imported), a pickle-JSON node or an error node. An encode
expectation is `pickle.dumps(obj, protocol)`'s bytes, or the class of the exception it
raises, grouped by the versions that agree; a pickle longer than 256 bytes is given by its
length and FNV-1a 64-bit hash (the batching cases run to 2001 items) rather than in full.
"value" is the object's pickle JSON, or, for the large containers, a "recipe" the test
expands into it: {"kind": "list_none" | "dict_none" | "set_int" | "frozenset_int", "n": N}
is [None]*n, dict.fromkeys(range(n)), set(range(n)), frozenset(range(n)); every interpreter
describes the object exactly so (checked: small ints iterate alike everywhere).

The cases probe each difference the codec models between versions (crates/brine-codec/src/
python.rs): INT/LONG text parsing (base, bools, digit limit), frame enforcement, huge
declared lengths and memo indices, empty APPENDS/ADDITEMS, `<locals>` names, BINSTRING's
signed length; and the pickler's container batching, digit limit and `<locals>` error.
Every expectation comes from an interpreter: never edit the output. Cases whose outcome
depends on the machine (allocations of a few GiB) are left out; MemoryError here means
beyond any address space.
"""

import json
import os
import pickle
import subprocess
import sys
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from opcode_layout import asm, op  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "crates/brine-codec/tests/data/python_versions.json")
VERSIONS = ["3.9", "3.11", "3.13", "3.14", "3.15"]


def interpreter(version):
    if version == "3.11":
        return "/usr/bin/python3.11"
    return os.path.join(REPO, "target/pythons/bin/python" + version)


# ---------------------------------------------------------------------------------------------
# The cases

def FRAME(n):
    """A FRAME opcode declaring n bytes (what follows is up to the case)."""
    return op("FRAME", n)


def decode_cases():
    """[(name, pickle, buffers)]"""
    cases = []

    def add(name, data, buffers=0):
        cases.append((name, data, buffers))

    # INT and LONG text: base 0 vs 10 (3.14), bools (3.15), whitespace, signs, underscores.
    texts = [b"0", b"1", b"00", b"01", b"001", b"010", b"0x10", b"0X1f", b"0o17", b"0b11", b"0x_4301",
             b"1_000", b"0_1", b"0_0", b"_1", b" 1", b"+1", b"-0", b"+0", b"-1", b" 0", b"\t1",
             b"\x0b1", b"\r1", b"1 ", b" 01", b"+01", b"-01", b"-00", b"000", b"07", b"08", b"0777",
             b"0000000000000000000001", b"9223372036854775807", b"9223372036854775808",
             b"-9223372036854775809", b"0x8000000000000000", b"1L", b"01L", b"0L", b"1\x002",
             b"0\x001", b" ", b"+", b"-", b"1e3", b"1.0"]
    for t in texts:
        label = t.decode("latin-1").encode("unicode_escape").decode("ascii")
        add("int_text/I%s" % label, b"I" + t + b"\n.")
        add("int_text/L%s" % label, b"L" + t + b"\n.")
        add("int_text/L%sL" % label, b"L" + t + b"L\n.")
    # The int/str digit limit (3.9 has none): INT, LONG, PUT/GET indices.
    big = b"1" * 4301
    add("digits/INT_4301", b"I" + big + b"\n.")
    add("digits/LONG_4301", b"L" + big + b"L\n.")
    add("digits/PUT_4301", b"Np" + big + b"\n.")
    add("digits/GET_4301", b"Ng" + big + b"\n.")

    # Frames (enforced from 3.14).
    P4 = op("PROTO", 4)
    frames = {
        "ok": P4 + FRAME(2) + b"N.",
        "ok_after": P4 + FRAME(1) + b"N" + b".",
        "arg_fits": P4 + FRAME(2) + b"K\x05" + b".",
        "op_last_in_frame": P4 + FRAME(1) + b"K" + b"\x05.",
        "binint_straddles": P4 + FRAME(3) + b"J\x01\x00" + b"\x00\x00.",
        "binint_straddles_eof": P4 + FRAME(3) + b"J\x01\x00",
        "long1_straddles": P4 + FRAME(3) + b"\x8a\x02\x01" + b"\x01.",
        "binbytes_fits": P4 + FRAME(6) + b"C\x03ab" + b"c.",
        "binbytes_straddles": P4 + FRAME(10) + b"B\x00\x01\x00\x00" + b"a" * 256 + b".",
        "line_straddles": P4 + FRAME(3) + b"I12" + b"\n.",
        "line_no_newline_eof": P4 + FRAME(3) + b"I12",
        "line_newline_after_frame": P4 + FRAME(3) + b"I12" + b"3\n.",
        "line_fits": P4 + FRAME(4) + b"I12\n" + b".",
        "line_op_last_in_frame": P4 + FRAME(1) + b"I" + b"12\n.",
        "string_straddles": P4 + FRAME(4) + b"S'ab" + b"'\n.",
        "global_first_line_straddles": P4 + FRAME(3) + b"cab" + b"\ncd\n.",
        "global_second_line_straddles": P4 + FRAME(6) + b"cab\ncd" + b"\n.",
        "frame_in_frame": P4 + FRAME(12) + b"N" + FRAME(1) + b"N" + b".",
        "frame_at_frame_end": P4 + FRAME(1) + b"N" + FRAME(1) + b".",
        "frame_arg_ends_frame": P4 + FRAME(9) + FRAME(0) + b"N.",
        "frame_arg_inside_frame": P4 + FRAME(10) + FRAME(1) + b"N" + b".",
        "empty_frame_in_frame": P4 + FRAME(11) + b"N" + FRAME(0) + b"N.",
        "frame_arg_straddles": P4 + FRAME(3) + b"N\x95\x01" + b"\x00" * 7 + b"N.",
        "frame_arg_straddles_eof": P4 + FRAME(3) + b"N\x95\x01",
        "huge_frame_in_frame": P4 + FRAME(11) + b"N" + FRAME(2 ** 64 - 1) + b".",
        "huge_frame_at_frame_end": P4 + FRAME(10) + b"N" + FRAME(2 ** 64 - 1) + b".",
        "truncated_frame_in_frame": P4 + FRAME(11) + b"N" + FRAME(100) + b".",
        "truncated_frame_at_frame_end": P4 + FRAME(10) + b"N" + FRAME(100) + b".",
        "huge_frame": P4 + FRAME(2 ** 64 - 1) + b"N.",
        "truncated_frame": P4 + FRAME(100) + b"N.",
        "empty_frame": P4 + FRAME(0) + b"N.",
        "frame_then_frame": P4 + FRAME(0) + FRAME(1) + b"N.",
        "proto_straddles": P4 + FRAME(1) + b"\x80" + b"\x04N.",
        "stop_then_more": P4 + FRAME(3) + b"N.N",
        "binbytes0_at_eof": P4 + FRAME(5) + b"B\x00\x00\x00\x00",
        "binunicode8_huge_in_frame": P4 + FRAME(3) + op("BINUNICODE8", b"", length=2 ** 60 - 1) + b".",
        "binbytes8_huge_in_frame": op("PROTO", 5) + FRAME(10) + op("BINBYTES8", b"a", length=2 ** 62) + b"ab.",
        "memo_get_straddles": P4 + FRAME(4) + b"N\x94h\x00" + b".",
    }
    for name, data in frames.items():
        add("frame/" + name, data)

    # Huge declared lengths (read in chunks from 3.15) and memo indices (sparse from 3.15).
    P5 = op("PROTO", 5)
    add("huge/binbytes8_2^62", P5 + op("BINBYTES8", b"ab", length=2 ** 62) + b".")
    add("huge/binbytes8_2^50", P5 + op("BINBYTES8", b"ab", length=2 ** 50) + b".")
    add("huge/bytearray8_2^62", P5 + op("BYTEARRAY8", b"ab", length=2 ** 62) + b".")
    add("huge/binunicode8_2^62", P5 + op("BINUNICODE8", b"ab", length=2 ** 62) + b".")
    add("huge/binbytes8_2^63", P5 + op("BINBYTES8", b"ab", length=2 ** 63) + b".")
    add("huge/binstring_2^31", op("BINSTRING", b"ab", length=2 ** 31) + b".")
    add("huge/binstring_2^32-1", op("BINSTRING", b"ab", length=2 ** 32 - 1) + b".")
    add("memo/PUT_ssize_max", b"Np9223372036854775807\n.")
    add("memo/PUT_ssize_max_GET", b"Np9223372036854775807\n0g9223372036854775807\n.")
    add("memo/PUT_2^60", b"Np1152921504606846976\n.")
    add("memo/PUT_too_big", b"Np9223372036854775808\n.")
    add("memo/PUT_negative", b"Np-1\n.")
    add("memo/LONG_BINGET_missing", P5 + b"N" + op("LONG_BINGET", 2 ** 32 - 1) + b".")

    # Where MEMOIZE stores once PUTs went to sparse indices: 3.15 keeps an index past its
    # 32-slot (then grown) array and over twice its count in a dict, which MEMOIZE's index
    # does not count; a GET moves a dict entry that is now below the array's end into it,
    # uncounted. (The first seven are generated pickles the codec once got wrong.)
    for i, h in enumerate(["8f94711872020000007034300a70340a946805",
                           "4e720000000072f8970000946802",
                           "4e71aa72010000007118720300000070370a70350a9467360a",
                           "4e94703132310a9467320a",
                           "4e7100714a720200000070330a946a04000000",
                           "4e71269467310a",
                           "4b2d9470310a722bb300009470340a9467350a"]):
        add("memo/sparse/generated_%d" % (i + 1), bytes.fromhex(h))

    def put(i, v=1):
        return asm(("BININT1", v), ("PUT", i), "POP")

    fill = lambda a, b: b"".join(put(i) for i in range(a, b))
    add("memo/sparse/PUT_31", b"Np31\n0N\x94g1\n.")
    add("memo/sparse/PUT_32", b"Np32\n0N\x94g0\n.")
    add("memo/sparse/PUT_100_GET", b"Np100\n0N\x94g0\n0g100\n.")
    add("memo/sparse/LONG_BINPUT_2^16", P4 + b"N" + op("LONG_BINPUT", 2 ** 16) + b"0N\x94h\x00.")
    add("memo/sparse/twice_count", fill(0, 20) + put(40, 9) + b"N\x94g20\n.")
    add("memo/sparse/over_twice_count", fill(0, 20) + put(41, 9) + b"N\x94g20\n.")
    add("memo/sparse/grow_leaves_dict", put(40, 7) + fill(0, 33) + put(40, 8) + b"N\x94g34\n.")
    add("memo/sparse/grow_leaves_dict_GET", put(40, 7) + fill(0, 33) + b"g40\n.")
    add("memo/sparse/GET_moves_uncounted", put(40, 7) + fill(0, 33) + b"g40\n0" + put(40, 8) + b"N\x94g33\n.")
    add("memo/sparse/GET_beyond_array", put(100, 7) + fill(0, 3) + b"g100\n0" + b"N\x94g3\n.")
    add("memo/sparse/MEMOIZE_over_dict_entry", put(40, 7) + fill(0, 40) + b"N\x94g40\n.")

    # Empty APPENDS / ADDITEMS (and SETITEMS) on every kind of target (3.15 checks it).
    glob = asm(("SHORT_BINUNICODE", "foo"), ("SHORT_BINUNICODE", "Bar"), "STACK_GLOBAL")
    targets = {
        "list": b"]", "dict": b"}", "set": b"\x8f", "int": op("BININT1", 1), "bool": b"\x88",
        "none": b"N", "str": op("SHORT_BINUNICODE", "a"), "bytes": op("SHORT_BINBYTES", b"a"),
        "bytearray": op("BYTEARRAY8", b"a"), "tuple": b")", "frozenset": b"(\x91", "global": glob,
        "object": glob + b")\x81", "float": op("BINFLOAT", 0.0), "buffer": b"\x97",
        "readonly_buffer": b"\x97\x98", "view": op("BYTEARRAY8", b"a") + b"\x98",
    }
    for opname in ("APPENDS", "ADDITEMS", "SETITEMS"):
        for tname, t in targets.items():
            add("batch/%s/%s/empty" % (opname, tname), P5 + t + b"(" + op(opname) + b".", 1)
            add("batch/%s/%s/one" % (opname, tname), P5 + t + b"(K\x01" + op(opname) + b".", 1)
    add("batch/APPENDS/bytearray_with_live_view/empty", P5 + op("BYTEARRAY8", b"a") + b"\x94\x98h\x00(e.")
    add("batch/APPENDS/bytearray_with_live_view/one", P5 + op("BYTEARRAY8", b"a") + b"\x94\x98h\x00(K\x01e.")
    add("batch/APPENDS/no_target", P5 + b"(e.")
    add("batch/ADDITEMS/no_target", P5 + b"(\x90.")

    # `<locals>` in a dotted name (protocol 4+ only), by GLOBAL, STACK_GLOBAL and INST.
    for proto in (3, 4):
        pr = op("PROTO", proto)
        add("locals/GLOBAL/p%d" % proto, pr + b"cm\nf.<locals>.C\n.")
        add("locals/GLOBAL_first/p%d" % proto, pr + b"cm\n<locals>.C\n.")
        add("locals/GLOBAL_plain/p%d" % proto, pr + b"cm\n<locals>\n.")
        add("locals/STACK_GLOBAL/p%d" % proto, pr + asm(("SHORT_BINUNICODE", "m"), ("SHORT_BINUNICODE", "f.<locals>.C"), "STACK_GLOBAL", "STOP"))
        add("locals/INST/p%d" % proto, pr + b"(im\nf.<locals>.C\n.")
    return cases


RECIPES = {
    "list_none": lambda n: [None] * n,
    "dict_none": lambda n: dict.fromkeys(range(n)),
    "set_int": lambda n: set(range(n)),
    "frozenset_int": lambda n: frozenset(range(n)),
}


def recipe_doc(kind, n):
    """The pickle JSON of RECIPES[kind](n), as the test builds it."""
    num = lambda i: {"t": "int", "v": str(i)}
    if kind == "list_none":
        return {"t": "list", "items": [{"t": "none"}] * n}
    if kind == "dict_none":
        return {"t": "dict", "items": [[num(i), {"t": "none"}] for i in range(n)]}
    return {"t": kind.split("_")[0], "items": [num(i) for i in range(n)]}


def encode_cases():
    """[(name, protocol, object, recipe or None)] of builtin values."""
    cases = []
    for n in (0, 1, 2, 999, 1000, 1001, 2000, 2001):
        for proto in (0, 1, 2, 3, 4, 5):
            if proto in (0, 3) and n > 2:
                continue  # protocol 0 has no batches; 3 batches as 2 does
            for kind, make in RECIPES.items():
                cases.append(("%s/%d/p%d" % (kind, n, proto), proto, make(n), {"kind": kind, "n": n}))
    big = (10 ** 4301 - 1) // 9  # 4301 ones (int("1" * 4301) is itself over the limit)
    cases.append(("digits/int_4301/p0", 0, big, None))
    cases.append(("digits/neg_int_4301/p1", 1, -big, None))
    cases.append(("digits/int_4301/p2", 2, big, None))
    cases.append(("digits/int_4300/p0", 0, int("1" * 4300), None))
    return cases


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h = ((h ^ b) * 0x100000001b3) & 0xffffffffffffffff
    return "%016x" % h


def outcome(obj, proto):
    try:
        data = pickle.dumps(obj, proto)
    except Exception as e:
        return {"error": type(e).__name__}
    if len(data) > 256:
        return {"len": len(data), "fnv1a64": fnv1a64(data)}
    return {"pickle": data.hex()}


def global_cases():
    """[(name, protocol, object, doc)]: globals (classes made here, under a fake module)."""
    m = types.ModuleType("brine_fixture_mod")
    sys.modules["brine_fixture_mod"] = m

    def make(qualname):
        cls = type(qualname.rsplit(".", 1)[-1], (), {})
        cls.__module__ = "brine_fixture_mod"
        cls.__qualname__ = qualname
        return cls

    def outer():
        pass

    m.outer = outer
    local = make("outer.<locals>.C")
    plain = make("Plain")
    m.Plain = plain
    out = []
    for proto in range(6):
        for name, obj in (("local", local), ("plain", plain)):
            doc = {"t": "global", "module": "brine_fixture_mod", "name": obj.__qualname__}
            out.append(("global/%s/p%d" % (name, proto), proto, obj, doc))
    return out


# ---------------------------------------------------------------------------------------------
# --emit: this interpreter's outcomes

def emit():
    sys.path.insert(0, HERE)
    import brine_sandbox as sb
    sys.setrecursionlimit(100000)
    decode = {}
    for name, data, buffers in decode_cases():
        decode[name] = sb.loads_c(data, buffers)
    encode = {}
    docs = {}
    for name, proto, obj, recipe in encode_cases():
        doc = sb.to_json(obj)
        if recipe is not None:
            if doc != recipe_doc(recipe["kind"], recipe["n"]):
                sys.exit("%s: to_json differs from the recipe's document" % name)
            doc = recipe
        docs[name] = doc
        encode[name] = outcome(obj, proto)
    for name, proto, obj, doc in global_cases():
        docs[name] = doc
        encode[name] = outcome(obj, proto)
    json.dump({"version": sys.version, "decode": decode, "encode": encode, "docs": docs}, sys.stdout)


# ---------------------------------------------------------------------------------------------
# The driver

def main():
    if "--emit" in sys.argv:
        emit()
        return
    results = {}
    for v in VERSIONS:
        exe = interpreter(v)
        env = dict(os.environ, PYTHONHASHSEED="0")
        out = subprocess.run([exe, os.path.join(HERE, "gen_version_fixtures.py"), "--emit"],
                             capture_output=True, env=env, check=True, cwd=REPO).stdout
        results[v] = json.loads(out)
        got = results[v]["version"].split()[0]
        if not got.startswith(v + "."):
            sys.exit("%s is Python %s, not %s" % (exe, got, v))
        print("gen_version_fixtures: %s: %s" % (v, results[v]["version"].split()[0]), file=sys.stderr)
    decode = []
    for name, data, buffers in decode_cases():
        case = {"name": name, "pickle": data.hex()}
        if buffers:
            case["buffers"] = buffers
        case["expect"] = {v: results[v]["decode"][name] for v in VERSIONS}
        decode.append(case)
    encode = []
    names = [(n, p, r is not None) for n, p, _, r in encode_cases()]
    names += [(n, p, False) for n, p, _, _ in global_cases()]
    for name, proto, is_recipe in names:
        doc = results["3.11"]["docs"][name]
        for v in VERSIONS:
            if results[v]["docs"][name] != doc:
                sys.exit("%s: Python %s describes the object differently" % (name, v))
        groups = []
        for v in VERSIONS:
            r = results[v]["encode"][name]
            for g in groups:
                if {k: g[k] for k in g if k != "versions"} == r:
                    g["versions"].append(v)
                    break
            else:
                groups.append(dict({"versions": [v]}, **r))
        encode.append({"name": name, "protocol": proto, "recipe" if is_recipe else "value": doc, "expect": groups})
    fixture = {
        "generator": "scripts/gen_version_fixtures.py",
        "interpreters": {v: results[v]["version"].split("\n")[0] for v in VERSIONS},
        "decode": decode,
        "encode": encode,
    }
    with open(OUT, "w") as f:
        json.dump(fixture, f, separators=(",", ":"))
        f.write("\n")
    print("gen_version_fixtures: %d decode and %d encode cases -> %s (%d bytes)"
          % (len(decode), len(encode), os.path.relpath(OUT, REPO), os.path.getsize(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
