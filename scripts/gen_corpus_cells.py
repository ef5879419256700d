#!/usr/bin/python3.11
"""Writes conformance/decode/cells.jsonl: a pickle for every (opcode, protocol) cell, an
n_ pickle failing at every opcode where CPython's two unpicklers can fail alike, and EXT1,
EXT2 and EXT4 with a declared extension registry.

    /usr/bin/python3.11 scripts/gen_corpus_cells.py [--out conformance/decode/cells.jsonl]

Every stream is built here from a small snippet per opcode (below; opcodes and their
arguments laid out by scripts/opcode_layout.py, from pickletools); what it means (the "c",
"python" and "genops" fields) is computed live by the sandboxed CPython of brine_sandbox.py,
as for every other set, and scripts/gen_corpus.py then turns each line into a corpus case.
- cells/P/OPCODE: PROTO P (nothing for protocol 0; PROTO 1 too, which CPython accepts though
  it never writes it), the opcode's snippet, STOP. A stream's protocol is its PROTO argument
  (scripts/check_corpus_cells.py). Must be accepted alike by both unpicklers; the generator
  stops if one is not.
- fail/OPCODE: the first candidate (in the order listed) that both unpicklers reject with the
  same exception class AND that the pure-Python unpickler rejects while executing OPCODE
  (corpus_checks.failing_opcode). Opcodes none of whose candidates qualify are listed at
  the end of the run: their failures are implementation-defined (C and Python disagree).
- ext/...: EXT1, EXT2 and EXT4 at protocols 2-5, one code in two registries, the largest
  code, a code used twice, and a code registered for a Python 2 name that fix_imports maps.
  The line's "extensions" is the registry ([[module, name, code], ...]) every load uses.

Deterministic: no randomness, no dependence on the hash seed (no sets in the values).
"""
import argparse, json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import brine_sandbox as sb  # noqa: E402
import corpus_checks as cc  # noqa: E402
import pickletools  # noqa: E402
from opcode_layout import asm, frame, op  # noqa: E402

CANNOT_FAIL = {"MARK", "NONE", "NEWTRUE", "NEWFALSE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_TUPLE", "EMPTY_SET"}


INT_1 = ("INT", 1)
STR_A = ("STRING", b"'a'")
BUILTINS_INT = ("GLOBAL", (b"builtins", b"int"))
BUILTINS_OBJECT = ("GLOBAL", (b"builtins", b"object"))


def K(n):
    return ("BININT1", n)


# One snippet per opcode: pushes exactly one value, using the opcode successfully. Protocol 0
# opcodes' snippets use protocol 0 opcodes only. "buffers" where a snippet needs them.
Y = {
    "INT": op("INT", 42),
    "LONG": op("LONG", b"12345678901234567890L"),
    "STRING": op("STRING", b"'abc'"),
    "NONE": op("NONE"),
    "UNICODE": op("UNICODE", b"abc"),
    "FLOAT": op("FLOAT", b"1.5"),
    "APPEND": asm("MARK", "LIST", INT_1, "APPEND"),
    "LIST": asm("MARK", INT_1, ("INT", 2), "LIST"),
    "TUPLE": asm("MARK", INT_1, ("INT", 2), "TUPLE"),
    "DICT": asm("MARK", STR_A, INT_1, "DICT"),
    "SETITEM": asm("MARK", "DICT", STR_A, INT_1, "SETITEM"),
    "POP": asm(INT_1, "POP", ("INT", 2)),
    "DUP": asm("MARK", "LIST", "DUP", "APPEND"),
    "MARK": asm("MARK", INT_1, "TUPLE"),
    "GET": asm("MARK", "LIST", ("PUT", 0), ("GET", 0), "APPEND"),
    "PUT": asm("MARK", "LIST", ("PUT", 0), ("GET", 0), "APPEND"),
    "GLOBAL": asm(BUILTINS_INT),
    "REDUCE": asm(BUILTINS_INT, "MARK", ("STRING", b"'1'"), "TUPLE", "REDUCE"),
    "BUILD": asm(BUILTINS_OBJECT, "MARK", "TUPLE", "REDUCE", "MARK", "DICT", STR_A, INT_1,
                 "SETITEM", "BUILD"),
    "INST": asm("MARK", INT_1, ("INST", (b"builtins", b"int"))),
    "PERSID": op("PERSID", b"abc"),
    "STOP": op("NONE"),
    "BININT": op("BININT", -2),
    "BININT1": op("BININT1", 5),
    "BININT2": op("BININT2", 0x100),
    "BINSTRING": op("BINSTRING", b"abc"),
    "SHORT_BINSTRING": op("SHORT_BINSTRING", b"abc"),
    "BINUNICODE": op("BINUNICODE", "abc"),
    "BINFLOAT": op("BINFLOAT", 1.5),
    "EMPTY_LIST": op("EMPTY_LIST"),
    "APPENDS": asm("EMPTY_LIST", "MARK", K(1), K(2), "APPENDS"),
    "EMPTY_TUPLE": op("EMPTY_TUPLE"),
    "EMPTY_DICT": op("EMPTY_DICT"),
    "SETITEMS": asm("EMPTY_DICT", "MARK", K(1), K(2), "SETITEMS"),
    "POP_MARK": asm("MARK", K(1), K(2), "POP_MARK", K(3)),
    "BINGET": asm("EMPTY_LIST", ("BINPUT", 0), ("BINGET", 0), "APPEND"),
    "BINPUT": asm("EMPTY_LIST", ("BINPUT", 0), ("BINGET", 0), "APPEND"),
    "LONG_BINGET": asm("EMPTY_LIST", ("LONG_BINPUT", 0), ("LONG_BINGET", 0), "APPEND"),
    "LONG_BINPUT": asm("EMPTY_LIST", ("LONG_BINPUT", 0), ("LONG_BINGET", 0), "APPEND"),
    "OBJ": asm("MARK", BUILTINS_INT, K(1), "OBJ"),
    "BINPERSID": asm(("SHORT_BINSTRING", b"abc"), "BINPERSID"),
    "PROTO": op("NONE"),
    "LONG1": op("LONG1", 0x100),
    "LONG4": op("LONG4", 0x100),
    "NEWTRUE": op("NEWTRUE"),
    "NEWFALSE": op("NEWFALSE"),
    "TUPLE1": asm(K(1), "TUPLE1"),
    "TUPLE2": asm(K(1), K(2), "TUPLE2"),
    "TUPLE3": asm(K(1), K(2), K(3), "TUPLE3"),
    "NEWOBJ": asm(BUILTINS_OBJECT, "EMPTY_TUPLE", "NEWOBJ"),
    "BINBYTES": op("BINBYTES", b"abc"),
    "SHORT_BINBYTES": op("SHORT_BINBYTES", b"abc"),
    "SHORT_BINUNICODE": op("SHORT_BINUNICODE", "abc"),
    "BINUNICODE8": op("BINUNICODE8", "abc"),
    "BINBYTES8": op("BINBYTES8", b"abc"),
    "EMPTY_SET": op("EMPTY_SET"),
    "ADDITEMS": asm("EMPTY_SET", "MARK", K(1), K(2), "ADDITEMS"),
    "FROZENSET": asm("MARK", K(1), K(2), "FROZENSET"),
    "NEWOBJ_EX": asm(BUILTINS_OBJECT, "EMPTY_TUPLE", "EMPTY_DICT", "NEWOBJ_EX"),
    "STACK_GLOBAL": asm(("SHORT_BINUNICODE", "builtins"), ("SHORT_BINUNICODE", "int"),
                        "STACK_GLOBAL"),
    "MEMOIZE": asm("EMPTY_LIST", "MEMOIZE", ("BINGET", 0), "APPEND"),
    "FRAME": frame(op("BININT1", 1)),
    "BYTEARRAY8": op("BYTEARRAY8", b"abc"),
    "NEXT_BUFFER": op("NEXT_BUFFER"),
    "READONLY_BUFFER": asm(("BYTEARRAY8", b"abc"), "READONLY_BUFFER"),
}
BUFFERS = {"NEXT_BUFFER": 1}

# EXT snippets and the registry each case declares.
EXT_CODES = {"EXT1": 0xF1, "EXT2": 0x1234, "EXT4": 0x12345678}


def in_frame(opbytes, keep):
    """PROTO 4, a FRAME holding exactly opbytes[:keep] (keep >= 2: the opcode and at least one
    byte of its argument), and nothing after it. C reads the frame, then runs out of input in
    the opcode's argument ("pickle data was truncated"); the pure-Python unpickler's frame
    runs out in the middle of the argument ("pickle exhausted before end of frame"): both
    UnpicklingError, at that opcode."""
    return op("PROTO", 4) + frame(opbytes[:keep])


# Failure candidates per opcode, tried in order.
F = {
    "INT": [b"Iabc\n."],
    "LONG": [b"Labc\n."],
    "STRING": [b"Sabc\n.", b"S'abc\n."],
    "UNICODE": [b"V\\u12\n."],
    "FLOAT": [b"Fabc\n."],
    "APPEND": [b"K\x01K\x02a."],
    "LIST": [b"l.", b"(l0l."],
    "TUPLE": [b"t.", b"(t0t."],
    "DICT": [b"(]K\x01d.", b"(K\x01d."],
    "SETITEM": [b"K\x01K\x02K\x03s.", b"}]K\x01s."],
    "POP": [b"0.", b"(0."],
    "DUP": [b"2.", b"(2."],
    "GET": [b"g5\n.", b"gabc\n."],
    "PUT": [b"K\x01p-1\n.", b"K\x01pabc\n."],
    # (a <locals> name fails from 3.11 to 3.13 only: not first)
    "GLOBAL": [b"c\xff\nx\n.", b"\x80\x04cbuiltins\na.<locals>.b\n."],
    "REDUCE": [b"K\x01)R.", b"cbuiltins\nint\nK\x01R."],
    "BUILD": [b"K\x01}K\x02K\x03sb.", b"]}K\x02K\x03sb."],
    "INST": [b"(i\xff\nx\n.", b"\x80\x04(ibuiltins\na.<locals>.b\n."],
    "PERSID": [b"P\xff\n."],
    "STOP": [b"."],
    "BININT": [in_frame(op("BININT", 0x04030201), k) for k in (2, 3, 4)],
    "BININT1": [b"K", in_frame(op("BININT1", 1), 1)],
    "BININT2": [in_frame(op("BININT2", 0x0201), 2)],
    "BINSTRING": [op("BINSTRING", b"", length=-1) + b".", in_frame(op("BINSTRING", b"abc"), 3)],
    "SHORT_BINSTRING": [in_frame(op("SHORT_BINSTRING", b"abc"), 3)],
    "BINUNICODE": [op("BINUNICODE", b"\xff") + b".", in_frame(op("BINUNICODE", "abc"), 3)],
    "BINFLOAT": [in_frame(op("BINFLOAT", 1.5), k) for k in (2, 5)],
    "APPENDS": [b"K\x01(K\x02e.", b"(K\x02e."],
    "SETITEMS": [b"K\x01(K\x02K\x03u.", b"}(]K\x03u."],
    "POP_MARK": [b"1.", b"K\x011."],
    "BINGET": [b"h\x05.", in_frame(op("BINGET", 5), 1)],
    "BINPUT": [b"q\x00.", b"(q\x00."],
    "LONG_BINGET": [b"j\x05\x00\x00\x00.", in_frame(op("LONG_BINGET", 5), 3)],
    "LONG_BINPUT": [in_frame(asm(K(1), ("LONG_BINPUT", 5)), k) for k in (4, 5)] + [b"r\x00\x00\x00\x00."],
    "OBJ": [b"(K\x01o.", b"(o."],
    "BINPERSID": [b"Q.", b"(Q."],
    "PROTO": [b"\x80\x06N."],
    "LONG1": [in_frame(op("LONG1", 0x100), 3), in_frame(op("LONG1", 0x100), 2)],
    "LONG4": [op("LONG4", b"", length=-1) + b".", in_frame(op("LONG4", 0x100), 3)],
    "TUPLE1": [b"\x85.", b"(\x85."],
    "TUPLE2": [b"\x86.", b"(\x86."],
    "TUPLE3": [b"\x87.", b"(\x87."],
    "NEWOBJ": [b"K\x01)\x81.", b"cbuiltins\nobject\nK\x01\x81.", b"\x81."],
    "EXT1": [b"\x82\x00.", b"\x82\x01."],
    "EXT2": [b"\x83\x00\x00.", b"\x83\x01\x00."],
    "EXT4": [b"\x84\x00\x00\x00\x00.", b"\x84\x01\x00\x00\x00."],
    "BINBYTES": [in_frame(op("BINBYTES", b"abc"), k) for k in (3, 6)],
    "SHORT_BINBYTES": [in_frame(op("SHORT_BINBYTES", b"abc"), 3)],
    "SHORT_BINUNICODE": [b"\x8c\x01\xff.", in_frame(op("SHORT_BINUNICODE", "abc"), 3)],
    "BINUNICODE8": [op("BINUNICODE8", b"\xff") + b".", in_frame(op("BINUNICODE8", "abc"), 10)],
    "BINBYTES8": [in_frame(op("BINBYTES8", b"abc"), k) for k in (5, 10)],
    "ADDITEMS": [b"K\x01(K\x02\x90.", b"\x8f(]\x90."],
    "FROZENSET": [b"(]\x91.", b"\x91."],
    "NEWOBJ_EX": [b"K\x01)}\x92.", b"cbuiltins\nobject\n)K\x01\x92."],
    "STACK_GLOBAL": [b"K\x01K\x02\x93.", b"\x8c\x08builtins\x8c\x09a.<locals>\x93."],
    "MEMOIZE": [b"\x94.", b"(\x94."],
    "FRAME": [op("PROTO", 4) + frame(op("FRAME", 1)[:4]), op("PROTO", 4) + op("FRAME", 1)[:4]],
    "BYTEARRAY8": [in_frame(op("BYTEARRAY8", b"abc"), k) for k in (5, 10)],
    "NEXT_BUFFER": [b"\x97."],
    "READONLY_BUFFER": [b"K\x01\x98.", b"\x98."],
}


def record(name, data, source_note, buffers=0, extensions=None):
    c = sb.loads_c(data, buffers, extensions=extensions)
    py = sb.loads_py(data, buffers, extensions=extensions)
    line = {"name": name, "source": "cells", "pickle": data.hex()}
    if buffers:
        line["buffers"] = buffers
    if extensions is not None:
        line["extensions"] = [list(e) for e in extensions]
    line.update({"c": c, "python": py, "genops": sb.genops_json(data)})
    if source_note:
        line["note"] = source_note
    return line


def same(c, py):
    if c.get("t") == "error" or py.get("t") == "error":
        return c.get("t") == py.get("t") == "error" and c.get("type") == py.get("type")
    return json.dumps(c, sort_keys=True) == json.dumps(py, sort_keys=True)


def codec_protocols():
    """{opcode name: proto} from the codec's opcode table (crates/brine-codec/src/opcodes.rs),
    which the Rust cell report counts by (the same as pickletools': crates/brine-oracle/tests/
    opcode_table.rs checks the whole table against it)."""
    import re
    with open(os.path.join(REPO, "crates", "brine-codec", "src", "opcodes.rs")) as f:
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*([A-Z_0-9]+) = [^,]+, proto (\d)", f.read(), re.M)}


def prefix(p):
    return op("PROTO", p) if p else b""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "conformance", "decode", "cells.jsonl"))
    args = ap.parse_args()
    lines = []
    problems = []
    # 1. y_: every (opcode, protocol) cell, by pickletools' protocols and the codec's table.
    codec = codec_protocols()
    for p in range(6):
        for info in pickletools.opcodes:
            if min(info.proto, codec.get(info.name, info.proto)) > p or info.name in EXT_CODES:
                continue
            data = prefix(p) + Y[info.name] + b"."
            line = record(f"cells/p{p}/{info.name}", data,
                          f"{info.name} in a protocol {p} stream" + (" (PROTO 1: CPython accepts it, never writes it)" if p == 1 else ""),
                          BUFFERS.get(info.name, 0))
            if line["c"].get("t") == "error" or not same(line["c"], line["python"]):
                problems.append(f"cell {info.name} p{p}: {line['c']} / {line['python']}")
            lines.append(line)
    # 2. EXT with a registry.
    for p in range(2, 6):
        for name, code in EXT_CODES.items():
            reg = [("brine_ext", f"{name.lower()}_target", code)]
            lines.append(record(f"ext/p{p}/{name}", prefix(p) + op(name, code) + b".",
                                f"{name} code {code:#x}, registered as brine_ext.{name.lower()}_target", 0, reg))
    shared = prefix(2) + op("EXT1", 0xF0) + b"."
    note = ("code 0xf0 shared by two names across two registries: copyreg refuses one code for two "
            "names in one registry (ValueError), so the same bytes mean brine_ext.{} here and "
            "brine_ext.{} in ext/shared_code_{}; an implementation that keeps a registry or EXT "
            "cache from one case to the next gets one of the pair wrong")
    lines.append(record("ext/shared_code_a", shared, note.format("first", "second", "b"), 0, [("brine_ext", "first", 0xF0)]))
    lines.append(record("ext/shared_code_b", shared, note.format("second", "first", "a"), 0, [("brine_ext", "second", 0xF0)]))
    lines.append(record("ext/same_code_twice", prefix(2) + op("EXT1", 0xF0) + op("EXT1", 0xF0) + b"\x86.",
                        "one code used twice in a stream: one find_class call, CPython caches the object per code",
                        0, [("brine_ext", "first", 0xF0)]))
    lines.append(record("ext/largest_code", prefix(4) + op("EXT4", 0x7FFFFFFF) + b".",
                        "EXT4 with the largest code copyreg accepts, 0x7fffffff", 0, [("brine_ext", "largest", 0x7FFFFFFF)]))
    lines.append(record("ext/fix_imports_p2", prefix(2) + op("EXT1", 0x1B) + b".",
                        "code registered as __builtin__.unicode; below protocol 3 find_class applies fix_imports: builtins.str",
                        0, [("__builtin__", "unicode", 0x1B)]))
    lines.append(record("ext/fix_imports_p3", prefix(3) + op("EXT1", 0x1B) + b".",
                        "code registered as __builtin__.unicode; from protocol 3 on no fix_imports: the name stays",
                        0, [("__builtin__", "unicode", 0x1B)]))
    for line in lines:
        if line["name"].startswith("ext/") and (line["c"].get("t") == "error" or not same(line["c"], line["python"])):
            problems.append(f"ext {line['name']}: {line['c']}")
    # 3. n_: a failure at every opcode where one exists.
    impossible = []
    for info in pickletools.opcodes:
        if info.name in CANNOT_FAIL:
            continue
        tried = []
        for data in F[info.name]:
            c = sb.loads_c(data)
            py = sb.loads_py(data)
            fa = cc.failing_opcode(data)
            tried.append((c.get("type"), py.get("type"), fa and fa["op"]))
            if c.get("t") == "error" and same(c, py) and fa and fa["op"] == info.name \
                    and c.get("type") not in cc.LIMIT_TYPES:
                lines.append(record(f"fail/{info.name}", data, f"fails at {info.name} ({c['type']}) in both unpicklers"))
                break
        else:
            impossible.append((info.name, tried))
    if problems:
        for p in problems:
            print("PROBLEM:", p, file=sys.stderr)
        sys.exit(1)
    header = {"header": True, "python": sys.version, "generator": "scripts/gen_corpus_cells.py"}
    with open(args.out, "w") as f:
        f.write(json.dumps(header) + "\n")
        for line in lines:
            f.write(sb.dumps_json(line) + "\n")
    print(f"{args.out}: {len(lines)} cases")
    for name, tried in impossible:
        print(f"no n_ case fails at {name}: candidates gave (C, Python, failing opcode) {tried}")


if __name__ == "__main__":
    sb.reexec_with_fixed_hash_seed()
    sb.run_on_big_stack(main)
