#!/usr/bin/python3.11
"""Writes conformance/decode/cells.jsonl: a pickle for every (opcode, protocol) cell, an
n_ pickle failing at every opcode where CPython's two unpicklers can fail alike, and EXT1,
EXT2 and EXT4 with a declared extension registry.

    /usr/bin/python3.11 scripts/gen_corpus_cells.py [--out conformance/decode/cells.jsonl]

Every stream is built here from a small snippet per opcode (below); what it means (the "c",
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
import argparse, json, os, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import brine_sandbox as sb  # noqa: E402
import corpus_checks as cc  # noqa: E402
import pickletools  # noqa: E402

CANNOT_FAIL = {"MARK", "NONE", "NEWTRUE", "NEWFALSE", "EMPTY_LIST", "EMPTY_DICT", "EMPTY_TUPLE", "EMPTY_SET"}


def q(n):
    return struct.pack("<Q", n)


def i4(n):
    return struct.pack("<i", n)


def frame(body):
    return b"\x95" + q(len(body)) + body


# One snippet per opcode: pushes exactly one value, using the opcode successfully. Protocol 0
# opcodes' snippets use protocol 0 opcodes only. "buffers" where a snippet needs them.
Y = {
    "INT": b"I42\n",
    "LONG": b"L12345678901234567890L\n",
    "STRING": b"S'abc'\n",
    "NONE": b"N",
    "UNICODE": b"Vabc\n",
    "FLOAT": b"F1.5\n",
    "APPEND": b"(lI1\na",
    "LIST": b"(I1\nI2\nl",
    "TUPLE": b"(I1\nI2\nt",
    "DICT": b"(S'a'\nI1\nd",
    "SETITEM": b"(dS'a'\nI1\ns",
    "POP": b"I1\n0I2\n",
    "DUP": b"(l2a",
    "MARK": b"(I1\nt",
    "GET": b"(lp0\ng0\na",
    "PUT": b"(lp0\ng0\na",
    "GLOBAL": b"cbuiltins\nint\n",
    "REDUCE": b"cbuiltins\nint\n(S'1'\ntR",
    "BUILD": b"cbuiltins\nobject\n(tR(dS'a'\nI1\nsb",
    "INST": b"(I1\nibuiltins\nint\n",
    "PERSID": b"Pabc\n",
    "STOP": b"N",
    "BININT": b"J" + i4(-2),
    "BININT1": b"K\x05",
    "BININT2": b"M\x00\x01",
    "BINSTRING": b"T" + i4(3) + b"abc",
    "SHORT_BINSTRING": b"U\x03abc",
    "BINUNICODE": b"X" + i4(3) + b"abc",
    "BINFLOAT": b"G" + struct.pack(">d", 1.5),
    "EMPTY_LIST": b"]",
    "APPENDS": b"](K\x01K\x02e",
    "EMPTY_TUPLE": b")",
    "EMPTY_DICT": b"}",
    "SETITEMS": b"}(K\x01K\x02u",
    "POP_MARK": b"(K\x01K\x021K\x03",
    "BINGET": b"]q\x00h\x00a",
    "BINPUT": b"]q\x00h\x00a",
    "LONG_BINGET": b"]r\x00\x00\x00\x00j\x00\x00\x00\x00a",
    "LONG_BINPUT": b"]r\x00\x00\x00\x00j\x00\x00\x00\x00a",
    "OBJ": b"(cbuiltins\nint\nK\x01o",
    "BINPERSID": b"U\x03abcQ",
    "PROTO": b"N",
    "LONG1": b"\x8a\x02\x00\x01",
    "LONG4": b"\x8b\x02\x00\x00\x00\x00\x01",
    "NEWTRUE": b"\x88",
    "NEWFALSE": b"\x89",
    "TUPLE1": b"K\x01\x85",
    "TUPLE2": b"K\x01K\x02\x86",
    "TUPLE3": b"K\x01K\x02K\x03\x87",
    "NEWOBJ": b"cbuiltins\nobject\n)\x81",
    "BINBYTES": b"B" + i4(3) + b"abc",
    "SHORT_BINBYTES": b"C\x03abc",
    "SHORT_BINUNICODE": b"\x8c\x03abc",
    "BINUNICODE8": b"\x8d" + q(3) + b"abc",
    "BINBYTES8": b"\x8e" + q(3) + b"abc",
    "EMPTY_SET": b"\x8f",
    "ADDITEMS": b"\x8f(K\x01K\x02\x90",
    "FROZENSET": b"(K\x01K\x02\x91",
    "NEWOBJ_EX": b"cbuiltins\nobject\n)}\x92",
    "STACK_GLOBAL": b"\x8c\x08builtins\x8c\x03int\x93",
    "MEMOIZE": b"]\x94h\x00a",
    "FRAME": frame(b"K\x01"),
    "BYTEARRAY8": b"\x96" + q(3) + b"abc",
    "NEXT_BUFFER": b"\x97",
    "READONLY_BUFFER": b"\x96" + q(3) + b"abc\x98",
}
BUFFERS = {"NEXT_BUFFER": 1}

# EXT snippets and the registry each case declares.
EXT_CODES = {"EXT1": 0xF1, "EXT2": 0x1234, "EXT4": 0x12345678}


def ext_bytes(op, code):
    if op == "EXT1":
        return b"\x82" + bytes([code])
    if op == "EXT2":
        return b"\x83" + struct.pack("<H", code)
    return b"\x84" + struct.pack("<i", code)


def in_frame(opbytes, keep):
    """PROTO 4, a FRAME holding exactly opbytes[:keep] (keep >= 2: the opcode and at least one
    byte of its argument), and nothing after it. C reads the frame, then runs out of input in
    the opcode's argument ("pickle data was truncated"); the pure-Python unpickler's frame
    runs out in the middle of the argument ("pickle exhausted before end of frame"): both
    UnpicklingError, at that opcode."""
    return b"\x80\x04" + frame(opbytes[:keep])


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
    "BININT": [in_frame(b"J\x01\x02\x03\x04", k) for k in (2, 3, 4)],
    "BININT1": [b"K", in_frame(b"K\x01", 1)],
    "BININT2": [in_frame(b"M\x01\x02", 2)],
    "BINSTRING": [b"T" + i4(-1) + b".", in_frame(b"T\x03\x00\x00\x00abc", 3)],
    "SHORT_BINSTRING": [in_frame(b"U\x03abc", 3)],
    "BINUNICODE": [b"X" + i4(1) + b"\xff.", in_frame(b"X\x03\x00\x00\x00abc", 3)],
    "BINFLOAT": [in_frame(b"G" + struct.pack(">d", 1.5), k) for k in (2, 5)],
    "APPENDS": [b"K\x01(K\x02e.", b"(K\x02e."],
    "SETITEMS": [b"K\x01(K\x02K\x03u.", b"}(]K\x03u."],
    "POP_MARK": [b"1.", b"K\x011."],
    "BINGET": [b"h\x05.", in_frame(b"h\x05", 1)],
    "BINPUT": [b"q\x00.", b"(q\x00."],
    "LONG_BINGET": [b"j\x05\x00\x00\x00.", in_frame(b"j\x05\x00\x00\x00", 3)],
    "LONG_BINPUT": [in_frame(b"K\x01r\x05\x00\x00\x00", k) for k in (4, 5)] + [b"r\x00\x00\x00\x00."],
    "OBJ": [b"(K\x01o.", b"(o."],
    "BINPERSID": [b"Q.", b"(Q."],
    "PROTO": [b"\x80\x06N."],
    "LONG1": [in_frame(b"\x8a\x02\x00\x01", 3), in_frame(b"\x8a\x02\x00\x01", 2)],
    "LONG4": [b"\x8b" + i4(-1) + b".", in_frame(b"\x8b\x02\x00\x00\x00\x00\x01", 3)],
    "TUPLE1": [b"\x85.", b"(\x85."],
    "TUPLE2": [b"\x86.", b"(\x86."],
    "TUPLE3": [b"\x87.", b"(\x87."],
    "NEWOBJ": [b"K\x01)\x81.", b"cbuiltins\nobject\nK\x01\x81.", b"\x81."],
    "EXT1": [b"\x82\x00.", b"\x82\x01."],
    "EXT2": [b"\x83\x00\x00.", b"\x83\x01\x00."],
    "EXT4": [b"\x84\x00\x00\x00\x00.", b"\x84\x01\x00\x00\x00."],
    "BINBYTES": [in_frame(b"B\x03\x00\x00\x00abc", k) for k in (3, 6)],
    "SHORT_BINBYTES": [in_frame(b"C\x03abc", 3)],
    "SHORT_BINUNICODE": [b"\x8c\x01\xff.", in_frame(b"\x8c\x03abc", 3)],
    "BINUNICODE8": [b"\x8d" + q(1) + b"\xff.", in_frame(b"\x8d" + q(3) + b"abc", 10)],
    "BINBYTES8": [in_frame(b"\x8e" + q(3) + b"abc", k) for k in (5, 10)],
    "ADDITEMS": [b"K\x01(K\x02\x90.", b"\x8f(]\x90."],
    "FROZENSET": [b"(]\x91.", b"\x91."],
    "NEWOBJ_EX": [b"K\x01)}\x92.", b"cbuiltins\nobject\n)K\x01\x92."],
    "STACK_GLOBAL": [b"K\x01K\x02\x93.", b"\x8c\x08builtins\x8c\x09a.<locals>\x93."],
    "MEMOIZE": [b"\x94.", b"(\x94."],
    "FRAME": [b"\x80\x04" + frame(b"\x95\x01\x00\x00"), b"\x80\x04\x95\x01\x00\x00"],
    "BYTEARRAY8": [in_frame(b"\x96" + q(3) + b"abc", k) for k in (5, 10)],
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
    which the Rust cell report counts by: it puts POP_MARK in protocol 0, pickletools in 1."""
    import re
    with open(os.path.join(REPO, "crates", "brine-codec", "src", "opcodes.rs")) as f:
        return {m.group(1): int(m.group(2)) for m in re.finditer(r"^\s*([A-Z_0-9]+) = [^,]+, proto (\d)", f.read(), re.M)}


def prefix(p):
    return b"\x80" + bytes([p]) if p else b""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(REPO, "conformance", "decode", "cells.jsonl"))
    args = ap.parse_args()
    lines = []
    problems = []
    # 1. y_: every (opcode, protocol) cell, by pickletools' protocols and the codec's table.
    codec = codec_protocols()
    for p in range(6):
        for op in pickletools.opcodes:
            if min(op.proto, codec.get(op.name, op.proto)) > p or op.name in EXT_CODES:
                continue
            data = prefix(p) + Y[op.name] + b"."
            line = record(f"cells/p{p}/{op.name}", data,
                          f"{op.name} in a protocol {p} stream" + (" (PROTO 1: CPython accepts it, never writes it)" if p == 1 else ""),
                          BUFFERS.get(op.name, 0))
            if line["c"].get("t") == "error" or not same(line["c"], line["python"]):
                problems.append(f"cell {op.name} p{p}: {line['c']} / {line['python']}")
            lines.append(line)
    # 2. EXT with a registry.
    for p in range(2, 6):
        for op, code in EXT_CODES.items():
            reg = [("brine_ext", f"{op.lower()}_target", code)]
            lines.append(record(f"ext/p{p}/{op}", prefix(p) + ext_bytes(op, code) + b".",
                                f"{op} code {code:#x}, registered as brine_ext.{op.lower()}_target", 0, reg))
    shared = prefix(2) + ext_bytes("EXT1", 0xF0) + b"."
    note = ("code 0xf0 shared by two names across two registries: copyreg refuses one code for two "
            "names in one registry (ValueError), so the same bytes mean brine_ext.{} here and "
            "brine_ext.{} in ext/shared_code_{}; an implementation that keeps a registry or EXT "
            "cache from one case to the next gets one of the pair wrong")
    lines.append(record("ext/shared_code_a", shared, note.format("first", "second", "b"), 0, [("brine_ext", "first", 0xF0)]))
    lines.append(record("ext/shared_code_b", shared, note.format("second", "first", "a"), 0, [("brine_ext", "second", 0xF0)]))
    lines.append(record("ext/same_code_twice", prefix(2) + ext_bytes("EXT1", 0xF0) + ext_bytes("EXT1", 0xF0) + b"\x86.",
                        "one code used twice in a stream: one find_class call, CPython caches the object per code",
                        0, [("brine_ext", "first", 0xF0)]))
    lines.append(record("ext/largest_code", prefix(4) + ext_bytes("EXT4", 0x7FFFFFFF) + b".",
                        "EXT4 with the largest code copyreg accepts, 0x7fffffff", 0, [("brine_ext", "largest", 0x7FFFFFFF)]))
    lines.append(record("ext/fix_imports_p2", prefix(2) + ext_bytes("EXT1", 0x1B) + b".",
                        "code registered as __builtin__.unicode; below protocol 3 find_class applies fix_imports: builtins.str",
                        0, [("__builtin__", "unicode", 0x1B)]))
    lines.append(record("ext/fix_imports_p3", prefix(3) + ext_bytes("EXT1", 0x1B) + b".",
                        "code registered as __builtin__.unicode; from protocol 3 on no fix_imports: the name stays",
                        0, [("__builtin__", "unicode", 0x1B)]))
    for line in lines:
        if line["name"].startswith("ext/") and (line["c"].get("t") == "error" or not same(line["c"], line["python"])):
            problems.append(f"ext {line['name']}: {line['c']}")
    # 3. n_: a failure at every opcode where one exists.
    impossible = []
    for op in pickletools.opcodes:
        if op.name in CANNOT_FAIL:
            continue
        tried = []
        for data in F[op.name]:
            c = sb.loads_c(data)
            py = sb.loads_py(data)
            fa = cc.failing_opcode(data)
            tried.append((c.get("type"), py.get("type"), fa and fa["op"]))
            if c.get("t") == "error" and same(c, py) and fa and fa["op"] == op.name \
                    and c.get("type") not in cc.LIMIT_TYPES:
                lines.append(record(f"fail/{op.name}", data, f"fails at {op.name} ({c['type']}) in both unpicklers"))
                break
        else:
            impossible.append((op.name, tried))
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
