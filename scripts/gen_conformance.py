#!/usr/bin/python3.11
"""Generate brine's conformance data from CPython itself.

    /usr/bin/python3.11 scripts/gen_conformance.py [--seed N] [--out conformance]

Writes (JSON Lines, first line a header; a set over 4 MiB goes into shards NAME-1.jsonl,
NAME-2.jsonl... instead of NAME.jsonl, each with the header):
    conformance/decode/values.jsonl        pickle.dumps of builtin and stdlib values, protocols 0-5
    conformance/decode/pickletester.jsonl  every bytes literal of CPython's test/pickletester.py
    conformance/decode/handwritten.jsonl   hand-made streams: every opcode, quirks, hostile shapes
    conformance/decode/mutations.jsonl     seeded truncations / byte flips / inserts / deletes
    conformance/encode/values.jsonl        builtin documents and the bytes pickle.dumps writes

Every expectation comes from CPython 3.11 (the interpreter running this script), through the
sandbox in scripts/brine_sandbox.py: never edit the output by hand.  Deterministic for a given
seed and interpreter: the script re-executes itself with PYTHONHASHSEED=0 so that set
iteration order is stable.  See docs/sandbox.md.
"""

import argparse
import ast
import glob
import json
import os
import random
import resource
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

ADDRESS_SPACE_LIMIT = 3 * 1024 ** 3
LOAD_TIMEOUT = 10

# Mutation recipe per source pickle (see docs/sandbox.md, "Size budget").  Every mutated case
# carries its full disassembly (~17 bytes of JSON per pickle byte), so to stay under ~60 MB in
# all: sources up to MUT_SMALL_SOURCE bytes get the full recipe, larger ones are cut to
# MUT_LARGE_CAP bytes and get MUT_LARGE_RECIPE.
MUT_FULL_RECIPE = (40, 20, 5, 5)    # truncation cut points, flips/overwrites, inserts, deletes
MUT_SMALL_SOURCE = 40
MUT_LARGE_CAP = 96
MUT_LARGE_RECIPE = (6, 3, 1, 1)

RANDOM_DOCS = 3100
DIFF_BEGIN = "<!-- brine-diff-table:begin -->"
DIFF_END = "<!-- brine-diff-table:end -->"


def reexec_with_fixed_hash_seed():
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


# =============================================================================================
# brine_values: the module whose classes the values pickle by reference

BRINE_VALUES_SRC = r'''
import collections, enum

class WithDict:
    def __init__(self, a=1, b="two"):
        self.a = a
        self.b = b

class WithSlots:
    __slots__ = ("x", "y")
    def __init__(self, x=1, y=None):
        self.x = x
        self.y = y

class ReduceEx5:
    """__reduce_ex__ returning a 5-tuple: list items and dict items as iterators."""
    def __reduce_ex__(self, proto):
        return (ReduceEx5, (), {"state": 1}, iter([1, 2, 3]), iter([("k", "v"), (2, None)]))

class NewArgsEx:
    def __new__(cls, *args, **kwargs):
        self = object.__new__(cls)
        self.args = args
        self.kwargs = kwargs
        return self
    def __getnewargs_ex__(self):
        return (self.args, self.kwargs)

class NewArgs:
    def __new__(cls, *args):
        self = object.__new__(cls)
        self.args = args
        return self
    def __getnewargs__(self):
        return self.args

class StateOnly:
    def __getstate__(self):
        return ["a", "list", "state"]
    def __setstate__(self, state):
        pass

class FalsyState:
    def __getstate__(self):
        return 0
    def __setstate__(self, state):
        pass

class MyError(Exception):
    pass

class Color(enum.Enum):
    RED = 1
    GREEN = "green"

class Flags(enum.IntFlag):
    A = 1
    B = 2

Point = collections.namedtuple("Point", "x y", module="brine_values")

class Persistent:
    """Objects the persistent-id pickler writes as persistent ids."""
    def __init__(self, pid):
        self.pid = pid

def a_function():
    pass

class Outer:
    class Inner:
        pass
'''


def make_brine_values():
    import types
    mod = types.ModuleType("brine_values")
    sys.modules["brine_values"] = mod
    exec(compile(BRINE_VALUES_SRC, "<brine_values>", "exec"), mod.__dict__)
    return mod


# =============================================================================================
# Values

def build_values(bv):
    import array
    import collections
    import datetime
    import decimal
    import fractions
    import functools
    import ipaddress
    import pathlib
    import pickle
    import re
    import uuid

    out = []

    def add(label, obj, **kw):
        out.append((label, obj, kw))

    add("none", None)
    add("true", True)
    add("false", False)
    ints = [
        ("0", 0), ("1", 1), ("neg1", -1), ("255", 255), ("256", 256), ("neg255", -255),
        ("neg256", -256), ("65535", 65535), ("65536", 65536), ("neg65536", -65536),
        ("2p31m1", 2 ** 31 - 1), ("2p31", 2 ** 31), ("neg2p31", -2 ** 31),
        ("neg2p31m1", -2 ** 31 - 1), ("2p32", 2 ** 32), ("2p63m1", 2 ** 63 - 1),
        ("2p63", 2 ** 63), ("neg2p63", -2 ** 63), ("neg2p63m1", -2 ** 63 - 1),
        ("2p64", 2 ** 64), ("long1_max", 2 ** 2039 - 1), ("long4_min", 2 ** 2039),
        ("long1_min", -2 ** 2039), ("long4_neg", -2 ** 2039 - 1),
        ("256p255", 256 ** 255), ("256p255m1", 256 ** 255 - 1),
        ("10p5000", 10 ** 5000), ("neg10p5000", -10 ** 5000),
        ("4300_digits", int("7" * 4300)),
    ]
    for label, v in ints:
        add("int_" + label, v)
    floats = [
        ("0", 0.0), ("neg0", -0.0), ("inf", float("inf")), ("neginf", float("-inf")),
        ("nan", float("nan")), ("1e16", 1e16), ("1e-5", 1e-5), ("1_5", 1.5),
        ("third", 1 / 3), ("min_subnormal", 5e-324), ("max", 1.7976931348623157e308),
        ("neg1e300", -1e300), ("2p53p1", 2.0 ** 53 + 2),
    ]
    for label, v in floats:
        add("float_" + label, v)
    strs = [
        ("empty", ""), ("ascii", "hello world"), ("latin1", "caf\xe9 \xff"),
        ("bmp", "\u20ac\u6f22\u5b57"), ("astral", "\U0001f600 \U0010ffff"),
        ("lone_high", "\ud800"), ("lone_low", "x\udfffy"),
        ("surrogate_pair_separate", "\ud83d\ude00"), ("newline", "a\nb\r\n"),
        ("backslash", "back\\slash \\u0041 \\n"), ("quotes", "'\"'"), ("nul", "a\x00b"),
        ("len255", "a" * 255), ("len256", "b" * 256),
        ("utf8_256_bytes", "\xe9" * 128), ("one_char_latin1", "\xff"),
        ("one_char_bmp", "\u20ac"), ("control", "".join(map(chr, range(32)))),
    ]
    for label, v in strs:
        add("str_" + label, v)
    byts = [
        ("empty", b""), ("one", b"\x00"), ("abc", b"abc"), ("all_256", bytes(range(256))),
        ("len255", b"\xaa" * 255), ("len256", b"\xbb" * 256),
        ("high", b"\xff\x80\x7f"),
    ]
    for label, v in byts:
        add("bytes_" + label, v)
    add("bytearray_empty", bytearray())
    add("bytearray_abc", bytearray(b"abc"))
    add("bytearray_all_256", bytearray(range(256)))
    # 64 KiB is the protocol 4 frame size target: only protocols 4-5 say anything new here
    add("str_len65536", "c" * 65536, protocols=(4,))
    add("bytes_len65536", b"\xcc" * 65536, protocols=(4,))
    add("bytearray_len65536", bytearray(b"\x01" * 65536), protocols=(4, 5))
    for n in range(6):
        add("tuple_len%d" % n, tuple(range(n)))
    add("tuple_nested", ((1, (2, (3, ()))), "x"))
    for n in (0, 1, 999, 1000, 1001, 2000, 2001):
        # protocol 0 writes one APPEND/SETITEM per item, so the batch boundaries (1000) exist
        # from protocol 1 on; for these values protocol 3 writes what 2 does and 5 what 4 does
        # (bar the PROTO byte), so the large sizes are written at protocols 1, 2 and 4
        protos = range(6) if n < 999 else (1, 2, 4)
        add("list_%d_items" % n, [i & 0x7f for i in range(n)], protocols=protos)
        add("dict_%d_entries" % n, dict.fromkeys(range(n)), protocols=protos)
        add("set_%d_items" % n, set(range(n)), protocols=protos)
        add("frozenset_%d_items" % n, frozenset(range(n)), protocols=protos)
    add("dict_str_keys", {"a": 1, "b": [2, 3], "c": {"d": None}})
    add("dict_mixed_keys", {1: "int", 2.5: "float", "s": "str", b"b": "bytes", (1, 2): "tuple",
                            None: "none", True: "bool-merges-with-1?", frozenset([1]): "fs"})
    add("set_mixed", {1, "a", b"b", (1, 2), None, 2.5, frozenset(["x"])})
    add("frozenset_strs", frozenset(["alpha", "beta", "gamma", "delta"]))
    add("nested_lists", [1, [2, [3, [4, [5, []]]]]])
    deep = []
    cur = deep
    for _ in range(300):
        nxt = []
        cur.append(nxt)
        cur = nxt
    add("list_depth_300", deep)
    add("nested_mixed", {"list": [1, (2, 3), {4, 5}], "tuple": ([], {}), "fs": frozenset([(1,)])})
    shared_list = [1, 2]
    shared_dict = {"k": "v"}
    shared_str = "a shared string"
    shared_bytes = b"shared bytes"
    shared_tuple = (7, "eight")
    add("shared_list", [shared_list, shared_list, {"again": shared_list}])
    add("shared_dict", [shared_dict, (shared_dict,), shared_dict])
    add("shared_str", [shared_str, shared_str, {shared_str: shared_str}])
    add("shared_bytes", [shared_bytes, shared_bytes])
    add("shared_tuple", [shared_tuple, shared_tuple, (shared_tuple, shared_tuple)])
    add("shared_empty_containers", [[], [], {}, {}, (), ()])
    cyc_list = []
    cyc_list.append(cyc_list)
    add("cycle_list_self", cyc_list)
    cyc_dict = {}
    cyc_dict["self"] = cyc_dict
    add("cycle_dict_self", cyc_dict)
    inner = []
    cyc_tuple = (inner, 1)
    inner.append(cyc_tuple)
    add("cycle_tuple_via_list", cyc_tuple)
    inner2 = {}
    cyc_tuple2 = ("t", inner2)
    inner2["back"] = cyc_tuple2
    add("cycle_tuple_via_dict", [cyc_tuple2, cyc_tuple2])
    cyc_a, cyc_b = [], {}
    cyc_a.append(cyc_b)
    cyc_b["a"] = cyc_a
    add("cycle_list_dict", cyc_a)
    add("records_repeated_keys",
        [{"name": "n%d" % i, "id": i, "tags": ["x", "y"], "score": i / 4} for i in range(25)])

    # stdlib values
    add("datetime", datetime.datetime(2024, 2, 29, 23, 59, 58, 123456))
    add("datetime_tz", datetime.datetime(2001, 1, 1, tzinfo=datetime.timezone.utc))
    add("date", datetime.date(1999, 12, 31))
    add("time", datetime.time(12, 30, 15, 5))
    add("timedelta", datetime.timedelta(days=-1, seconds=5, microseconds=7))
    add("timezone_offset", datetime.timezone(datetime.timedelta(hours=5, minutes=30), "IST"))
    add("decimal", decimal.Decimal("-3.14159"))
    add("decimal_nan", decimal.Decimal("NaN"))
    add("fraction", fractions.Fraction(22, 7))
    add("complex", complex(1.5, -2.0))
    add("range", range(0, 100, 7))
    add("slice", slice(1, None, 3))
    add("ordereddict", collections.OrderedDict([("b", 1), ("a", 2)]))
    add("defaultdict_list", collections.defaultdict(list, {"k": [1]}))
    add("counter", collections.Counter("abracadabra"))
    add("deque", collections.deque([1, 2, 3], maxlen=5))
    add("namedtuple", bv.Point(1, 2))
    add("enum_member", bv.Color.GREEN)
    add("intflag", bv.Flags.A | bv.Flags.B)
    add("uuid", uuid.UUID("12345678-1234-5678-1234-567812345678"))
    add("purepath", pathlib.PurePosixPath("/usr/lib/python3"))
    add("re_pattern", re.compile(r"a+b*", re.I))
    add("array_i", array.array("i", [1, -2, 3]))
    add("array_d", array.array("d", [0.5]))
    add("ipv4", ipaddress.IPv4Address("192.0.2.1"))
    add("ipv6_network", ipaddress.ip_network("2001:db8::/32"))
    add("partial", functools.partial(int, base=2))
    add("class_with_dict", bv.WithDict(3, [4]))
    add("class_with_slots", bv.WithSlots(5, "six"))
    add("reduce_ex_5tuple", bv.ReduceEx5())
    add("getnewargs_ex", bv.NewArgsEx(1, "two", key="word"))
    add("getnewargs", bv.NewArgs(1, 2))
    add("state_only", bv.StateOnly())
    add("falsy_state", bv.FalsyState())
    add("exception_valueerror", ValueError("bad value", 3))
    add("exception_keyerror", KeyError("k"))
    add("exception_oserror", OSError(2, "No such file"))
    add("exception_custom", bv.MyError("custom"))
    add("builtin_len", len)
    add("builtin_int", int)
    add("builtin_object", object)
    add("class_ref", bv.WithDict)
    add("nested_class_ref", bv.Outer.Inner)
    add("function_ref", bv.a_function)
    add("type_none", type(None))
    add("ellipsis", Ellipsis)
    add("notimplemented", NotImplemented)
    # persistent ids
    add("persistent_str_pid", [bv.Persistent("file:1"), "plain", bv.Persistent("file:2")],
        persistent=True)
    add("persistent_tuple_pid", {"ref": bv.Persistent(("table", 7))}, persistent=True)
    add("persistent_int_pid", [bv.Persistent(42)], persistent=True)
    # buffers (protocol 5)
    add("picklebuffer_inband", [pickle.PickleBuffer(bytearray(b"writable")),
                                pickle.PickleBuffer(b"readonly")])
    add("picklebuffer_out_of_band", [pickle.PickleBuffer(bytearray(b"writable")),
                                     pickle.PickleBuffer(b"readonly"), b"inband"],
        out_of_band=True)
    add("picklebuffer_out_of_band_shared",
        [pickle.PickleBuffer(b"ro")] * 2 + [pickle.PickleBuffer(bytearray(b"rw"))],
        out_of_band=True)
    return out


def dump_value(obj, proto, kw, bv):
    """-> (bytes, nbuffers) or raises"""
    import io
    import pickle
    if kw.get("out_of_band"):
        if proto < 5:
            raise ValueError("out-of-band buffers need protocol 5")
        bufs = []
        data = pickle.dumps(obj, proto, buffer_callback=bufs.append)
        return data, len(bufs)
    if kw.get("persistent"):
        class PidPickler(pickle.Pickler):
            def persistent_id(self, o):
                if isinstance(o, bv.Persistent):
                    return o.pid
                return None
        f = io.BytesIO()
        PidPickler(f, proto).dump(obj)
        return f.getvalue(), 0
    return pickle.dumps(obj, proto), 0


def is_builtin_doc(obj):
    ok = (type(None), bool, int, float, str, bytes, bytearray, tuple, list, dict, set, frozenset)
    seen = set()
    stack = [obj]
    while stack:
        o = stack.pop()
        if type(o) not in ok:
            return False
        if id(o) in seen:
            continue
        seen.add(id(o))
        if type(o) is dict:
            for k, v in o.items():
                stack.append(k)
                stack.append(v)
        elif type(o) in (tuple, list, set, frozenset):
            stack.extend(o)
    return True


# =============================================================================================
# pickletester.py bytes literals

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


# =============================================================================================
# Handwritten streams

def u1(n):
    return bytes([n])


def u2(n):
    return struct.pack("<H", n)


def i4(n):
    return struct.pack("<i", n)


def u4(n):
    return struct.pack("<I", n)


def u8(n):
    return struct.pack("<Q", n)


P0 = b""
P2 = b"\x80\x02"
P3 = b"\x80\x03"
P4 = b"\x80\x04"
P5 = b"\x80\x05"


def K(n):
    return b"K" + u1(n)


def SU(s):
    b = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
    return b"\x8c" + u1(len(b)) + b


def BU(s):
    b = s.encode("utf-8", "surrogatepass") if isinstance(s, str) else s
    return b"X" + u4(len(b)) + b


def SB(b):
    return b"C" + u1(len(b)) + b


def BB(b):
    return b"B" + u4(len(b)) + b


def BA8(b):
    return b"\x96" + u8(len(b)) + b


def STR0(s):
    return b"S'" + s + b"'\n"


def GL(m, n):
    return b"c" + m + b"\n" + n + b"\n"


def SG(m, n):
    return SU(m) + SU(n) + b"\x93"


def FR(payload):
    return b"\x95" + u8(len(payload)) + payload


GLOB = GL(b"m", b"f")          # a stand-in class
REC = GLOB + b")R"             # a Record (m.f())
BF = b"G" + struct.pack(">d", 1.0)   # BINFLOAT 1.0


def handwritten_cases():
    cases = []     # (name, bytes, buffers, note)
    names = set()

    def add(name, data, buffers=0, note=None):
        name = "handwritten/" + name
        assert name not in names, name
        names.add(name)
        cases.append((name, data, buffers, note))

    # ---- one success stream per opcode (also the templates for truncation) ----------------
    # (opcode name, prefix, opcode+argument, suffix)
    templates = [
        ("MARK", b"", b"(", b"K\x01l."),
        ("STOP", b"N", b".", b""),
        ("POP", b"NK\x01", b"0", b"."),
        ("POP_MARK", b"N(K\x01K\x02", b"1", b"."),
        ("DUP", b"K\x07", b"2", b"\x86."),
        ("FLOAT", b"", b"F1.5\n", b"."),
        ("INT", b"", b"I42\n", b"."),
        ("BININT", b"", b"J" + i4(-123456), b"."),
        ("BININT1", b"", b"K\xff", b"."),
        ("LONG", b"", b"L12345678901234567890L\n", b"."),
        ("BININT2", b"", b"M\xff\xff", b"."),
        ("NONE", b"", b"N", b"."),
        ("PERSID", b"", b"Ppid-1\n", b"."),
        ("BINPERSID", SU("pid"), b"Q", b"."),
        ("REDUCE", GLOB + b"K\x01\x85", b"R", b"."),
        ("STRING", b"", b"S'abc'\n", b"."),
        ("BINSTRING", b"", b"T\x03\x00\x00\x00abc", b"."),
        ("SHORT_BINSTRING", b"", b"U\x03abc", b"."),
        ("UNICODE", b"", b"Vabc\\u20ac\n", b"."),
        ("BINUNICODE", b"", BU("\u20acuro"), b"."),
        ("APPEND", b"]K\x01", b"a", b"."),
        ("BUILD", REC + b"}", b"b", b"."),
        ("GLOBAL", b"", GL(b"os", b"system"), b"."),
        ("DICT", b"(K\x01K\x02", b"d", b"."),
        ("EMPTY_DICT", b"", b"}", b"."),
        ("APPENDS", b"](K\x01K\x02", b"e", b"."),
        ("GET", b"K\x05p0\n0", b"g0\n", b"."),
        ("BINGET", b"K\x05q\x010", b"h\x01", b"."),
        ("INST", b"(K\x01", b"im\nf\n", b"."),
        ("LONG_BINGET", b"K\x05r\x00\x01\x00\x000", b"j\x00\x01\x00\x00", b"."),
        ("LIST", b"(K\x01K\x02", b"l", b"."),
        ("EMPTY_LIST", b"", b"]", b"."),
        ("OBJ", b"(" + GLOB + b"K\x01", b"o", b"."),
        ("PUT", b"K\x05", b"p7\n", b"."),
        ("BINPUT", b"K\x05", b"q\x07", b"."),
        ("LONG_BINPUT", b"K\x05", b"r\x07\x00\x00\x00", b"."),
        ("SETITEM", b"}K\x01K\x02", b"s", b"."),
        ("TUPLE", b"(K\x01K\x02", b"t", b"."),
        ("EMPTY_TUPLE", b"", b")", b"."),
        ("SETITEMS", b"}(K\x01K\x02K\x03K\x04", b"u", b"."),
        ("BINFLOAT", b"", b"G" + struct.pack(">d", -2.5), b"."),
        ("PROTO", b"", b"\x80\x02", b"N."),
        ("NEWOBJ", P2 + GLOB + b"K\x01\x85", b"\x81", b"."),
        ("EXT1", P2, b"\x82\x01", b"."),
        ("EXT2", P2, b"\x83\x01\x02", b"."),
        ("EXT4", P2, b"\x84\x01\x02\x03\x04", b"."),
        ("TUPLE1", P2 + b"K\x01", b"\x85", b"."),
        ("TUPLE2", P2 + b"K\x01K\x02", b"\x86", b"."),
        ("TUPLE3", P2 + b"K\x01K\x02K\x03", b"\x87", b"."),
        ("NEWTRUE", P2, b"\x88", b"."),
        ("NEWFALSE", P2, b"\x89", b"."),
        ("LONG1", P2, b"\x8a\x03\x00\x00\x80", b"."),
        ("LONG4", P2, b"\x8b\x03\x00\x00\x00\xff\xff\x7f", b"."),
        ("BINBYTES", P3, BB(b"bytes"), b"."),
        ("SHORT_BINBYTES", P3, SB(b"short"), b"."),
        ("SHORT_BINUNICODE", P4, SU("short \u20ac"), b"."),
        ("BINUNICODE8", P4, b"\x8d" + u8(3) + b"abc", b"."),
        ("BINBYTES8", P4, b"\x8e" + u8(3) + b"abc", b"."),
        ("EMPTY_SET", P4, b"\x8f", b"."),
        ("ADDITEMS", P4 + b"\x8f(K\x01K\x02", b"\x90", b"."),
        ("FROZENSET", P4 + b"(K\x01K\x02", b"\x91", b"."),
        ("NEWOBJ_EX", P4 + GLOB + b"K\x01\x85}" + SU("kw") + b"K\x02s", b"\x92", b"."),
        ("STACK_GLOBAL", P4 + SU("os") + SU("system"), b"\x93", b"."),
        ("MEMOIZE", P4 + b"K\x05", b"\x94", b"0h\x00."),
        ("FRAME", P4, FR(b"K\x01."), b""),
        ("BYTEARRAY8", P5, BA8(b"bytearray"), b"."),
        ("NEXT_BUFFER", P5, b"\x97", b"."),
        ("READONLY_BUFFER", P5 + b"\x97", b"\x98", b"."),
    ]
    import pickletools
    assert len({t[0] for t in templates}) == len(pickletools.opcodes) == 68
    for name, pre, oparg, post in templates:
        bufs = 1 if name in ("NEXT_BUFFER", "READONLY_BUFFER") else 0
        add("opcode/%s/ok" % name, pre + oparg + post, bufs)
        # truncated argument: every cut inside the argument (at most 8, evenly spread)
        n = len(oparg)
        cuts = list(range(1, n))
        if len(cuts) > 8:
            cuts = sorted({cuts[i * len(cuts) // 8] for i in range(8)} | {n - 1})
        for k in cuts:
            add("truncated/%s/%d_of_%d" % (name, k, n), pre + oparg[:k], bufs)
        # no STOP after the opcode
        if post:
            add("opcode/%s/no_stop" % name, pre + oparg, bufs)

    # ---- stack underflow ------------------------------------------------------------------
    pops = {   # opcode bytes -> operands needed
        b"0": 1, b"2": 1, b"a": 2, b"b": 2, b"R": 2, b"s": 3, b"p0\n": 1, b"q\x00": 1,
        b"r\x00\x00\x00\x00": 1, b"\x94": 1, b"\x81": 2, b"\x92": 3, b"\x85": 1, b"\x86": 2,
        b"\x87": 3, b"\x93": 2, b"Q": 1, b"\x98": 1, b".": 1,
    }
    opname = {op.code.encode("latin-1"): op.name for op in pickletools.opcodes}
    for code, need in pops.items():
        nm = opname[code[:1]]
        add("underflow/%s/empty_stack" % nm, code + (b"." if code != b"." else b""))
        add("underflow/%s/after_mark" % nm, b"(" + code + (b"." if code != b"." else b""))
        if need > 1:
            add("underflow/%s/one_short" % nm, b"N" * (need - 1) + code + b".")
            add("underflow/%s/one_short_after_mark" % nm,
                b"N(" + b"N" * (need - 1) + code + b".")
    for code in (b"t", b"l", b"d", b"e", b"u", b"\x90", b"\x91", b"1", b"o", b"im\nf\n"):
        nm = opname[code[:1]]
        add("no_mark/%s/empty_stack" % nm, code + b".")
        add("no_mark/%s/with_items" % nm, b"]K\x01" + code + b".")
    for code in (b"e", b"u", b"\x90"):
        nm = opname[code]
        add("underflow/%s/no_target_below_mark" % nm, b"(K\x01" + code + b".")
        add("underflow/%s/no_target_empty_mark" % nm, b"(" + code + b".")
    add("underflow/OBJ/mark_only", b"(o.")
    add("stop/empty", b".")
    add("stop/empty_input", b"")
    add("stop/mark_on_top", b"N(.")
    add("stop/two_values", b"NK\x01.")
    add("stop/value_under_mark", b"K\x01(K\x02.")

    # ---- quirks (shared/notes/cpython-quirks.md rows) ---------------------------------------
    add("quirk01/unknown_opcode_ff", b"\xff")
    add("quirk01/unknown_opcode_after_value", b"N\xff.")
    add("quirk01/unknown_opcode_nul", b"\x00")
    add("quirk02/tuple_no_mark", b"t.")
    add("quirk02/pop_empty", b"0")
    add("quirk02/dup_empty", b"2")
    add("quirk02/tuple1_empty", b"\x85")
    add("quirk03/dict_odd", b"(Nd.")
    add("quirk03/setitems_odd", b"}(K\x01u.")
    add("quirk04/mark_at_stop", b"N(.")
    add("quirk05/build_falsy_list_state", b"]]b.")
    add("quirk05/build_zero_state", b"]K\x00b.")
    add("quirk05/build_empty_str_state_on_dict", b"}X\x00\x00\x00\x00b.")
    add("quirk06/newobj_list_args", P2 + GLOB + b"]\x81.")
    add("quirk06/newobj_ex_list_args", P4 + GLOB + b"]}\x92.")
    add("quirk07/reduce_list_args", GLOB + b"]R.")
    add("quirk07/reduce_list_args_items", GLOB + b"(K\x01lR.")
    add("quirk08/empty_appends_on_bool", P2 + b"\x88(e.")
    add("quirk08/empty_additems_on_int", P4 + b"K\x01(\x90.")
    add("quirk08/empty_setitems_on_none", b"N(u.")
    add("quirk09/int_nul_junk", b"I1\x00junk\n.")
    add("quirk09/long_nul_junk", b"L1\x00junk\n.")
    add("quirk09/float_nul_junk", b"F1.5\x00junk\n.")
    add("quirk10/float_leading_space", b"F 5\n.")
    add("quirk10/float_trailing_space", b"F5 \n.")
    add("quirk10/float_underscore", b"F1_0\n.")
    add("quirk11/binstring_2p31", b"T\x00\x00\x00\x80abc.")
    add("quirk11/binstring_neg1", b"T\xff\xff\xff\xffabc.")
    add("quirk12/binbytes8_2p62", P4 + b"\x8e" + u8(2 ** 62) + b"abc.")
    add("quirk12/binbytes8_2p63", P4 + b"\x8e" + u8(2 ** 63) + b"abc.")
    add("quirk12/binbytes8_max", P4 + b"\x8e" + u8(2 ** 64 - 1) + b"abc.")
    add("quirk13/arg_straddles_frame", P4 + b"\x95" + u8(3) + b"\x8c\x03a" + b"bc.")
    add("quirk13/frame_in_frame", P4 + FR(FR(b"K\x01.")))
    add("quirk13/frame_in_frame_partial", P4 + b"\x95" + u8(4) + b"K\x01" + FR(b"\x85."))
    add("quirk13/binbytes_straddles_frame", P4 + FR(b"C\x05ab") + b"cde.",
        note="genops sees a harmless SHORT_BINBYTES either way")
    add("quirk13/frame_ends_in_binbytes_holding_global_text",
        P4 + b"\x95" + u8(2) + b"C\x0b" + GL(b"os", b"system") + b".",
        note="a FRAME ends inside SHORT_BINBYTES's argument, which spells a GLOBAL")
    add("quirk14/frame_past_eof", P4 + b"\x95" + u8(100) + b"K\x01.")
    add("quirk14/frame_past_eof_huge", P4 + b"\x95" + u8(2 ** 40) + b"K\x01.")
    add("quirk15/long_binput_7fffffff", b"N" + b"r" + u4(0x7fffffff) + b".")
    add("quirk15/long_binput_ffffffff", b"N" + b"r" + u4(0xffffffff) + b".")
    add("quirk15/long_binput_16M", b"N" + b"r" + u4(0x00ffffff) + b"j" + u4(0x00ffffff) + b".")
    add("quirk15/put_text_huge", b"Np4294967295\n.")
    add("quirk15/put_text_bigger_than_ssize", b"Np99999999999999999999\n.")
    add("quirk16/persid", b"Pabc\n.",
        note="the sandbox supplies persistent_load, so row 16's messages do not show")
    add("quirk17/newobj_int_cls", P2 + b"K\x01)\x81.")
    add("quirk17/newobj_record_cls", P2 + REC + b")\x81.")
    add("quirk17/newobj_list_cls", P2 + b"])\x81.")

    # ---- PROTO ------------------------------------------------------------------------------
    for p in range(7):
        add("proto/%d" % p, b"\x80" + u1(p) + b"N.")
    add("proto/255", b"\x80\xffN.")
    add("proto/twice", P2 + P4 + b"N.")
    add("proto/mid_stream", b"N0" + P3 + b"N.")
    add("proto/fix_imports_switch",
        P2 + GL(b"__builtin__", b"xrange") + P3 + GL(b"__builtin__", b"xrange") + b"\x86.")
    add("proto/lowered_after_4",
        P4 + SG("a", "b.c") + b"\x80\x02" + SG("a", "b.c") + b"\x86.")

    # ---- INT / LONG / FLOAT text forms --------------------------------------------------------
    int_forms = [
        ("00", b"00"), ("01", b"01"), ("02", b"02"), ("0", b"0"), ("1", b"1"),
        ("space_1", b" 1"), ("1_space", b"1 "), ("plus_1", b"+1"), ("minus_0", b"-0"),
        ("minus_00", b"-00"), ("010", b"010"), ("0x10", b"0x10"), ("0o17", b"0o17"),
        ("0b11", b"0b11"), ("1_000", b"1_000"), ("1_nul_junk", b"1\x00junk"),
        ("nul", b"\x00"), ("empty", b""), ("minus", b"-"), ("1L", b"1L"),
        ("2p63", b"9223372036854775808"), ("2p63m1", b"9223372036854775807"),
        ("neg2p63m1", b"-9223372036854775809"), ("20_digits", b"12345678901234567890"),
        ("digits_4300", b"1" * 4300), ("digits_4301", b"1" * 4301),
        ("0x_4301", b"0x" + b"f" * 4301), ("nonascii_digit", "\u0661".encode()),
        ("tab_1", b"\t1"), ("1e3", b"1e3"), ("0_space", b"0 "), ("00_zero_three", b"000"),
    ]
    for label, txt in int_forms:
        add("int_text/%s" % label, b"I" + txt + b"\n.")
    add("int_text/no_newline", b"I12")
    long_forms = [
        ("123L", b"123L"), ("123", b"123"), ("minus_0L", b"-0L"), ("0x10L", b"0x10L"),
        ("space_1L", b" 1L"), ("1_000L", b"1_000L"), ("L_only", b"L"), ("empty", b""),
        ("LL", b"1LL"), ("lower_l", b"1l"), ("010L", b"010L"), ("digits_4300", b"2" * 4300),
        ("digits_4301", b"2" * 4301), ("digits_4301_L", b"2" * 4301 + b"L"),
        ("nul", b"1\x00L"),
    ]
    for label, txt in long_forms:
        add("long_text/%s" % label, b"L" + txt + b"\n.")
    float_forms = [
        ("1_5", b"1.5"), ("space_1_5", b" 1.5"), ("1_5_space", b"1.5 "), ("1e500", b"1e500"),
        ("neg1e500", b"-1e500"), ("1e-400", b"1e-400"), ("nan", b"nan"), ("neg_nan", b"-nan"),
        ("NaN", b"NaN"), ("inf", b"inf"), ("neg_inf", b"-inf"), ("infinity", b"Infinity"),
        ("dot5", b".5"), ("5dot", b"5."), ("1_0", b"1_0"), ("1_0dot5", b"1_0.5"),
        ("hex", b"0x1p3"), ("empty", b""), ("comma", b"1,5"), ("plus", b"+1.5"),
        ("neg0", b"-0.0"), ("int", b"7"), ("L", b"1.5L"), ("exp_only", b"e5"),
        ("digits_5000", b"1" * 5000), ("tab", b"\t2.5"),
    ]
    for label, txt in float_forms:
        add("float_text/%s" % label, b"F" + txt + b"\n.")
    for label, v in (("nan_payload", b"\x7f\xf8\x00\x00\x00\x00\x00\x01"),
                     ("neg_zero", b"\x80" + b"\x00" * 7), ("inf", b"\x7f\xf0" + b"\x00" * 6),
                     ("subnormal", b"\x00" * 7 + b"\x01"), ("snan", b"\x7f\xf0" + b"\x00" * 5 + b"\x01")):
        add("binfloat/%s" % label, b"G" + v + b".")
    # binary ints
    add("binint/neg1", b"J\xff\xff\xff\xff.")
    add("binint/min", b"J\x00\x00\x00\x80.")
    add("binint2/max", b"M\xff\xff.")
    add("long1/empty", P2 + b"\x8a\x00.")
    add("long1/neg_one_byte", P2 + b"\x8a\x01\xff.")
    add("long1/255_bytes", P2 + b"\x8a\xff" + b"\xff" * 254 + b"\x7f.")
    add("long1/non_minimal", P2 + b"\x8a\x04\x01\x00\x00\x00.")
    add("long4/empty", P2 + b"\x8b\x00\x00\x00\x00.")
    add("long4/negative_length", P2 + b"\x8b\xff\xff\xff\xff\x00.")
    add("long4/10k_bytes", P2 + b"\x8b" + i4(10000) + bytes(range(256)) * 39 + b"\x00" * 16 + b".")
    add("long4/length_2p31m1", P2 + b"\x8b" + i4(2 ** 31 - 1) + b"\x01.")

    # ---- STRING / BINSTRING / SHORT_BINSTRING ------------------------------------------------
    string_forms = [
        ("single", b"'abc'"), ("double", b'"abc"'), ("no_end_quote", b"'abc"),
        ("no_quotes", b"abc"), ("mismatched", b"'abc\""), ("empty", b"''"),
        ("lone_quote", b"'"), ("lone_dquote", b'"'), ("empty_line", b""),
        ("hex_escape", b"'\\x41'"), ("octal", b"'\\101\\0\\7'"), ("octal_high", b"'\\377'"),
        ("bad_hex_short", b"'\\x4'"), ("bad_hex_chars", b"'\\xZZ'"),
        ("unknown_escape", b"'\\q'"), ("escaped_quote", b"'\\''"), ("newline_escape", b"'a\\nb'"),
        ("trailing_backslash", b"'abc\\'"), ("nonascii_utf8", "'caf\xe9'".encode()),
        ("escaped_nonascii", b"'\\xe9'"), ("nul", b"'a\x00b'"), ("inner_quotes", b"'a'b'"),
        ("space_after", b"'abc' "),
    ]
    for label, txt in string_forms:
        add("string/%s" % label, b"S" + txt + b"\n.")
    add("binstring/nonascii", b"T\x02\x00\x00\x00\xc3\xa9.")
    add("binstring/empty", b"T\x00\x00\x00\x00.")
    add("short_binstring/nonascii", b"U\x01\xff.")
    add("short_binstring/at_proto3", P3 + b"U\x03abc.")
    add("binunicode/bad_utf8", b"X\x01\x00\x00\x00\xff.")
    add("binunicode/lone_surrogate", BU("\ud800") + b".")
    add("binunicode/surrogate_pair_bytes", b"X\x06\x00\x00\x00\xed\xa0\xbd\xed\xb8\x80.")
    add("binunicode/overlong", b"X\x02\x00\x00\x00\xc0\x80.")
    add("binunicode/huge_length", b"X\xff\xff\xff\xffabc.")
    add("short_binunicode/bad_utf8", P4 + b"\x8c\x02\xc3(.")
    add("binunicode8/huge_length", P4 + b"\x8d" + u8(2 ** 62) + b"abc.")
    add("binunicode8/2p63", P4 + b"\x8d" + u8(2 ** 63) + b"abc.")
    add("binbytes/huge_length", P3 + b"B\xff\xff\xff\xffabc.")
    add("binbytes/2p31", P3 + b"B\x00\x00\x00\x80abc.")
    add("bytearray8/huge_length", P5 + b"\x96" + u8(2 ** 62) + b"abc.")
    add("bytearray8/2p63", P5 + b"\x96" + u8(2 ** 63) + b"abc.")
    add("bytearray8/at_proto2", P2 + BA8(b"x") + b".")
    unicode_forms = [
        ("plain", b"abc"), ("u_escape", b"\\u0041\\u20ac"), ("U_escape", b"\\U0001f600"),
        ("U_too_big", b"\\U00110000"), ("u_truncated", b"\\u00"), ("U_truncated", b"\\U0001f6"),
        ("u_bad_hex", b"\\uZZZZ"), ("x_not_escape", b"\\x41"), ("backslash_n", b"\\n"),
        ("latin1_bytes", b"\xc3\xa9"), ("high_byte", b"\xff"), ("lone_surrogate", b"\\ud800"),
        ("double_backslash_u", b"\\\\u0041"), ("trailing_backslash", b"abc\\"), ("empty", b""),
        ("cr", b"a\rb"), ("nul", b"a\x00b"), ("surrogate_pair", b"\\ud83d\\ude00"),
    ]
    for label, txt in unicode_forms:
        add("unicode/%s" % label, b"V" + txt + b"\n.")

    # ---- GLOBAL / INST / STACK_GLOBAL names -------------------------------------------------
    globals_ = [
        ("nonascii_module", "caf\xe9".encode(), b"x"),
        ("nonutf8_module", b"\xff", b"x"), ("nonutf8_name", b"os", b"\xfe"),
        ("empty_module", b"", b"x"), ("empty_name", b"os", b""), ("dotted_module", b"os.path", b"join"),
        ("dotted_name", b"os", b"path.join"), ("locals_name", b"m", b"f.<locals>.g"),
        ("nul_in_name", b"os", b"a\x00b"), ("space_name", b"os", b" system"),
        ("cr_name", b"os", b"system\r"), ("leading_dot_module", b".os", b"x"),
        ("trailing_dot_name", b"os", b"x."), ("double_dot_name", b"os", b"a..b"),
        ("dunder_class", b"os", b"__class__"), ("dunder_dict", b"os", b"__dict__"),
        ("builtins_eval", b"builtins", b"eval"),
    ]
    for label, m, n in globals_:
        for pname, ph in (("p0", P0), ("p2", P2), ("p3", P3), ("p4", P4)):
            add("global/%s/%s" % (label, pname), ph + GL(m, n) + b".")
    add("global/truncated_module_line", b"cos")
    add("global/truncated_name_line", b"cos\nsystem")
    add("global/one_line", b"cos.system\n.")
    for label, (m, n) in {
        "__builtin__.xrange": (b"__builtin__", b"xrange"),
        "__builtin__.unicode": (b"__builtin__", b"unicode"),
        "__builtin__.set": (b"__builtin__", b"set"),
        "copy_reg._reconstructor": (b"copy_reg", b"_reconstructor"),
        "exceptions.StandardError": (b"exceptions", b"StandardError"),
        "UserDict.UserDict": (b"UserDict", b"UserDict"),
        "whichdb.whichdb": (b"whichdb", b"whichdb"),
        "urllib.quote": (b"urllib", b"quote"),
        "cPickle.loads": (b"cPickle", b"loads"),
        "itertools.izip": (b"itertools", b"izip"),
        "exceptions.ImportError": (b"exceptions", b"ImportError"),
    }.items():
        for pname, ph in (("p0", P0), ("p2", P2), ("p3", P3)):
            add("fix_imports/%s/%s" % (label, pname), ph + GL(m, n) + b".")
        add("fix_imports/%s/stack_global_p2" % label,
            P2 + SU(m) + SU(n) + b"\x93.")
    for pname, ph in (("p0", P0), ("p2", P2), ("p4", P4)):
        add("stack_global/dotted/%s" % pname, ph + SG("os", "path.join") + b".")
        add("stack_global/locals/%s" % pname, ph + SG("m", "f.<locals>.g") + b".")
        add("stack_global/locals_first/%s" % pname, ph + SG("m", "<locals>") + b".")
    add("stack_global/bytes_operands", P4 + SB(b"os") + SB(b"system") + b"\x93.")
    add("stack_global/int_operands", P4 + b"K\x01K\x02\x93.")
    add("stack_global/str_and_int", P4 + SU("os") + b"K\x02\x93.")
    add("stack_global/int_and_str", P4 + b"K\x01" + SU("system") + b"\x93.")
    add("stack_global/from_memo", P4 + SU("os") + b"\x94" + SU("system") + b"\x94h\x00h\x01\x93.")
    add("stack_global/lone_surrogate_module", P4 + SU("\ud800") + SU("x") + b"\x93.")
    add("stack_global/lone_surrogate_name", P4 + SU("m") + SU("\udc80y") + b"\x93.")
    add("stack_global/empty_module", P4 + SU("") + SU("x") + b"\x93.")
    add("stack_global/nul_module", P4 + SU("a\x00b") + SU("x") + b"\x93.")
    add("stack_global/same_twice_is_one_key",
        P4 + b"}" + SG("m", "f") + b"K\x01s" + SG("m", "f") + b"K\x02s.")
    add("inst/no_args", b"(im\nf\n.")
    add("inst/with_args", b"(K\x01S'x'\nim\nf\n.")
    add("inst/nonascii_module", b"(i\xc3\xa9\nf\n.")
    add("inst/nonutf8", b"(i\xff\nf\n.")
    add("inst/empty_module", b"(i\nf\n.")
    add("inst/dotted_p4", P4 + b"(im\na.b\n.")
    add("inst/locals_p4", P4 + b"(im\na.<locals>\n.")
    add("inst/truncated_name", b"(im\nf")
    add("obj/global_no_args", b"(" + GLOB + b"o.")
    add("obj/global_args", b"(" + GLOB + b"K\x01K\x02o.")
    add("obj/record_cls", b"(" + REC + b"K\x01o.")
    add("obj/record_cls_no_args", b"(" + REC + b"o.")
    add("obj/int_cls", b"(K\x01K\x02o.")
    add("obj/list_cls_no_args", b"(]o.")
    add("obj/then_pop_hides_call", b"(" + GL(b"os", b"system") + STR0(b"ls") + b"o0N.")
    add("inst/then_pop_hides_call", b"(" + STR0(b"ls") + b"ios\nsystem\n0N.")

    # ---- REDUCE / NEWOBJ / NEWOBJ_EX ---------------------------------------------------------
    callables = {"global": GLOB, "record": REC, "int": b"K\x01", "list": b"]", "none": b"N",
                 "str": SU("f")}
    argses = {"tuple": b"K\x01\x85", "empty_tuple": b")", "list": b"]", "dict": b"}",
              "none": b"N", "str": SU("ab"), "record": REC}
    for cn, cb in callables.items():
        for an, ab in argses.items():
            add("reduce/%s/%s_args" % (cn, an), P4 + cb + ab + b"R.")
    for cn, cb in callables.items():
        for an, ab in (("tuple", b"K\x01\x85"), ("list", b"(K\x01l"), ("none", b"N"),
                       ("dict", b"}"), ("str", SU("ab"))):
            add("newobj/%s/%s_args" % (cn, an), P2 + cb + ab + b"\x81.")
    kwargses = {"dict": b"}" + SU("k") + b"K\x01s", "empty_dict": b"}", "list": b"]",
                "none": b"N", "int_key": b"}K\x01K\x02s", "record": REC}
    for an, ab in (("tuple", b"K\x01\x85"), ("list", b"(K\x01l")):
        for kn, kb in kwargses.items():
            add("newobj_ex/global/%s_args/%s_kwargs" % (an, kn), P4 + GLOB + ab + kb + b"\x92.")
    add("newobj_ex/int_cls", P4 + b"K\x01)}\x92.")
    add("newobj_ex/record_cls", P4 + REC + b")}\x92.")
    add("newobj/then_build", P2 + GLOB + b")\x81}" + SU("a") + b"K\x01sb.")

    # ---- BUILD on every kind of target with every kind of state ----------------------------
    targets = {"list": b"]", "dict": b"}", "int": b"K\x01", "global": GLOB, "record": REC,
               "none": b"N", "str": SU("s"), "bytearray": BA8(b"ab"), "set": b"\x8f"}
    states = {
        "none": b"N", "empty_dict": b"}", "dict": b"}" + SU("a") + b"K\x01s",
        "dict_int_key": b"}K\x01K\x02s", "int": b"K\x05", "zero": b"K\x00",
        "empty_list": b"]", "list": b"]K\x01a", "tuple_none_emptydict": b"N}\x86",
        "tuple_none_dict": b"N}" + SU("a") + b"K\x01s\x86",
        "tuple_dict_dict": b"}" + SU("a") + b"K\x01s}" + SU("b") + b"K\x02s\x86",
        "tuple_none_int": b"NK\x01\x86", "tuple_none_none": b"NN\x86",
        "tuple3": b"NNN\x87",
    }
    for tn, tb in targets.items():
        for sn, sbytes in states.items():
            add("build/%s/%s_state" % (tn, sn), P5 + tb + sbytes + b"b.")
    add("build/record/twice", P5 + REC + b"K\x01bK\x02b.")

    # ---- APPEND / APPENDS / SETITEM / SETITEMS / ADDITEMS on every target ------------------
    targets2 = {"list": b"]", "dict": b"}", "set": b"\x8f", "frozenset": b"(\x91",
                "bytearray": BA8(b"ab"), "tuple": b"K\x01\x85", "empty_tuple": b")",
                "int": b"K\x01", "str": SU("s"), "global": GLOB, "record": REC, "none": b"N",
                "bytes": SB(b"b")}
    actions = {
        "append": b"K\x05a", "append_big_int": b"M\x00\x01a", "appends": b"(K\x05K\x06e",
        "appends_empty": b"(e", "setitem": b"K\x00K\x05s", "setitem_1": b"K\x01K\x05s",
        "setitems": b"(K\x00K\x05u", "setitems_empty": b"(u", "additems": b"(K\x05\x90",
        "additems_empty": b"(\x90",
    }
    for tn, tb in targets2.items():
        for an, ab in actions.items():
            add("container_op/%s/%s" % (an, tn), P5 + tb + ab + b".")
    add("container_op/setitem_list_in_range", b"]K\x01aK\x00K\x09s.")
    add("container_op/setitem_list_negative", b"]K\x01aJ\xff\xff\xff\xffK\x09s.")
    add("container_op/setitem_list_slice", P2 + b"]K\x01a" + GL(b"builtins", b"slice") + b".")
    add("container_op/appends_to_list_twice", b"](K\x01e(K\x02e.")
    add("container_op/append_self", b"]q\x00h\x00a.")
    add("container_op/setitem_self_key", b"}q\x00h\x00K\x01s.")
    add("container_op/additems_self", P4 + b"\x8f\x94h\x00(h\x00\x90.")

    # ---- dict / set key merging, hashing ------------------------------------------------------
    add("keys/int_float_bool_merge", b"(K\x01K\x0a" + BF + b"K\x0bI01\nK\x0cd.")
    add("keys/bool_first", P2 + b"}\x88K\x0asK\x01K\x0bs" + BF + b"K\x0cs.")
    add("keys/float_first", b"}" + BF + b"K\x0asK\x01K\x0bs.")
    add("keys/zero_false_negzero", P2 + b"(K\x00K\x01\x89K\x02G" + struct.pack(">d", -0.0) + b"K\x03d.")
    add("keys/nan_twice", b"(Fnan\nK\x01Fnan\nK\x02d.")
    add("keys/nan_shared", b"(Fnan\np0\nK\x01g0\nK\x02d.")
    add("keys/str_vs_bytes", P3 + b"(X\x01\x00\x00\x00aK\x01C\x01aK\x02d.")
    add("keys/tuple_equal", P2 + b"(K\x01\x85K\x01K\x01\x85K\x02d.")
    add("keys/unhashable_list", b"(]K\x01d.")
    add("keys/unhashable_dict", b"}}K\x01s.")
    add("keys/unhashable_set", P4 + b"(\x8fK\x01d.")
    add("keys/unhashable_bytearray", P5 + b"(" + BA8(b"x") + b"K\x01d.")
    add("keys/unhashable_tuple_with_list", P2 + b"(]\x85K\x01d.")
    add("keys/unhashable_in_setitems", b"}(]K\x01u.")
    add("keys/record_keys_distinct", b"(" + REC + b"K\x01" + REC + b"K\x02d.")
    add("keys/global_keys_merge", b"(" + GLOB + b"K\x01" + GLOB + b"K\x02d.")
    add("keys/frozenset_key", P4 + b"((K\x01\x91K\x02d.")
    add("keys/memoryview_key", P5 + b"(" + BA8(b"x") + b"\x98K\x01d.")
    add("keys/readonly_bytes_key", P5 + b"(" + SB(b"x") + b"\x98K\x01d.")
    add("set/merge", P4 + b"\x8f(K\x01" + BF + b"\x88\x90.")
    add("set/unhashable_item", P4 + b"\x8f(]\x90.")
    add("frozenset/merge", P4 + b"(K\x01" + BF + b"\x88\x91.")
    add("frozenset/unhashable_item", P4 + b"(]\x91.")
    add("frozenset/empty", P4 + b"(\x91.")
    add("frozenset/two_empty_shared", P4 + b"(\x91(\x91\x86.")
    add("set/additems_many", P4 + b"\x8f(" + b"".join(K(i) for i in range(50)) + b"\x90.")
    add("dict/later_value_wins", b"(K\x01K\x02K\x01K\x03d.")
    add("dict/setitems_order", b"}(K\x03K\x01K\x01K\x02K\x03K\x04u.")

    # ---- memo ---------------------------------------------------------------------------------
    add("memo/get_missing_text", b"g5\n.")
    add("memo/binget_missing", b"h\x05.")
    add("memo/long_binget_missing", b"j\x05\x00\x00\x00.")
    add("memo/get_0x10", b"Np16\ng0x10\n.")
    add("memo/get_space", b"Np1\ng 1\n.")
    add("memo/get_negative", b"Np1\ng-1\n.")
    add("memo/get_empty", b"Np1\ng\n.")
    add("memo/put_negative", b"Np-1\n.")
    add("memo/put_0x10", b"Np0x10\n.")
    add("memo/put_empty", b"Np\n.")
    add("memo/put_plus", b"Np+1\ng1\n.")
    add("memo/put_leading_zero", b"Np01\ng1\n.")
    add("memo/put_underscore", b"Np1_0\ng10\n.")
    add("memo/redefine_binput", P2 + b"K\x01q\x00K\x02q\x00h\x00\x86.")
    add("memo/memoize_then_binput_same", P4 + b"K\x01\x94K\x02q\x00h\x00\x86.")
    add("memo/memoize_after_put_5", P4 + b"K\x01q\x05K\x02\x94h\x01\x86.")
    add("memo/memoize_after_put_0_twice", P4 + b"K\x01q\x00K\x02q\x00K\x03\x94h\x01.")
    add("memo/out_of_order", P2 + b"K\x01q\x03K\x02q\x01h\x03h\x01\x86.")
    add("memo/put_does_not_pop", b"K\x01p0\nK\x02t.")
    add("memo/get_list_shared", b"(]p0\ng0\ng0\nt.")
    add("memo/memoize_empty_stack", P4 + b"\x94.")
    add("memo/memoize_after_mark", P4 + b"(\x94.")
    add("memo/long_binget_high_bit", b"Nr\x00\x00\x00\x80j\x00\x00\x00\x80.")
    add("memo/put_mark_top", b"N(p0\n.")

    # ---- EXT ----------------------------------------------------------------------------------
    add("ext/ext1_zero", P2 + b"\x82\x00.")
    add("ext/ext2_zero", P2 + b"\x83\x00\x00.")
    add("ext/ext4_zero", P2 + b"\x84\x00\x00\x00\x00.")
    add("ext/ext4_negative", P2 + b"\x84\xff\xff\xff\xff.")
    add("ext/ext4_2p31", P2 + b"\x84\x00\x00\x00\x80.")
    add("ext/ext1_unregistered", P2 + b"\x82\x05.")
    add("ext/ext2_unregistered", P2 + b"\x83\xff\xff.")
    add("ext/ext4_unregistered", P2 + b"\x84\xff\xff\xff\x7f.")
    add("ext/after_add_extension_in_stream",
        GL(b"copyreg", b"add_extension") + b"(" + STR0(b"os") + STR0(b"system") + b"K\x01tR0"
        + P2 + b"\x82\x01.")

    # ---- persistent ids ----------------------------------------------------------------------
    add("persid/nonascii", b"P\xc3\xa9\n.")
    add("persid/empty", b"P\n.")
    add("persid/nul", b"Pa\x00b\n.")
    add("persid/no_newline", b"Pabc")
    add("persid/shared_via_memo", b"(Pabc\np0\ng0\nt.")
    add("persid/then_reduce", b"Pabc\n(K\x01tR.")
    add("binpersid/int", b"K\x05Q.")
    add("binpersid/tuple", P2 + b"K\x01K\x02\x86Q.")
    add("binpersid/record", REC + b"Q.")
    add("binpersid/list_then_append", b"]QK\x01a.")
    add("binpersid/twice_distinct", P2 + b"K\x01QK\x01Q\x86.")

    # ---- buffers --------------------------------------------------------------------------------
    add("buffer/next_no_buffers", P5 + b"\x97.")
    add("buffer/next_one", P5 + b"\x97.", 1)
    add("buffer/next_two_of_one", P5 + b"\x97\x97\x86.", 1)
    add("buffer/next_two", P5 + b"\x97\x97\x86.", 2)
    add("buffer/next_unused", P5 + b"N.", 3)
    add("buffer/readonly_supplied", P5 + b"\x97\x98.", 1)
    add("buffer/readonly_twice", P5 + b"\x97\x98\x98.", 1)
    add("buffer/readonly_bytes", P5 + SB(b"ab") + b"\x98.")
    add("buffer/readonly_bytearray", P5 + BA8(b"ab") + b"\x98.")
    add("buffer/readonly_bytearray_shared", P5 + BA8(b"ab") + b"\x94\x98h\x00\x86.")
    add("buffer/readonly_int", P5 + b"K\x01\x98.")
    add("buffer/readonly_str", P5 + SU("ab") + b"\x98.")
    add("buffer/readonly_empty_stack", P5 + b"\x98.")
    add("buffer/readonly_after_mark", P5 + b"N(\x98.")
    add("buffer/shared_via_memo", P5 + b"\x97\x94h\x00\x86.", 1)
    add("buffer/append_to_buffer", P5 + b"\x97K\x41a.", 1)
    add("buffer/setitems_on_buffer", P5 + b"\x97(K\x00K\x01u.", 1)
    add("buffer/in_list", P5 + b"](\x97\x97\x98e.", 2)
    # A bytearray cannot grow while a memoryview of it (READONLY_BUFFER's) is alive: CPython
    # raises BufferError, and "alive" is reachable from the stack or the memo.
    BA1 = P5 + b"\x96\x01\x00\x00\x00\x00\x00\x00\x00a"
    add("buffer/exports/live_view_on_stack", BA1 + b"q\x00\x98h\x00K\x01a.")
    add("buffer/exports/view_popped", BA1 + b"q\x00\x980h\x00K\x01a.")
    add("buffer/exports/view_memoized_then_popped", BA1 + b"q\x00\x98q\x010h\x00K\x01a.")
    add("buffer/exports/view_in_dropped_tuple", BA1 + b"q\x00\x98\x850h\x00K\x01a.")
    add("buffer/exports/view_in_memoized_tuple", BA1 + b"q\x00\x98\x85q\x010h\x00K\x01a.")
    add("buffer/exports/view_memo_slot_overwritten", BA1 + b"q\x00\x98q\x010Nq\x010h\x00K\x01a.")
    add("buffer/exports/appends_two", BA1 + b"q\x00\x98h\x00(K\x01K\x02e.")
    add("buffer/exports/empty_appends", BA1 + b"q\x00\x98h\x00(e.")
    add("buffer/exports/setitem_does_not_resize", BA1 + b"q\x00\x98h\x00K\x00K\x05s.")
    add("buffer/exports/bad_item_before_resize", BA1 + b"q\x00\x98h\x00Na.")
    add("buffer/exports/two_views_one_dropped", BA1 + b"q\x00\x98h\x00\x980h\x00K\x01a.")
    add("buffer/exports/readonly_of_view", BA1 + b"q\x00\x98\x98h\x00K\x01a.")
    add("buffer/exports/view_in_list_in_dict_value", BA1 + b"q\x00}q\x01K\x01](h\x00\x98e\x85sh\x00K\x01a.")
    add("buffer/exports/view_in_dropped_list", BA1 + b"q\x00](h\x00\x98e0h\x00K\x01a.")
    add("buffer/exports/supplied_live", P5 + b"\x97q\x00\x98h\x00K\x01a.", 1)
    add("buffer/exports/supplied_popped", P5 + b"\x97q\x00\x980h\x00K\x01a.", 1)
    add("buffer/exports/supplied_view_other_buffer", P5 + b"\x97q\x00\x97\x98h\x00K\x01a.", 2)
    add("buffer/next_at_proto0", b"\x97.", 1)

    # ---- FRAME rules ----------------------------------------------------------------------------
    add("frame/exact", P4 + FR(b"K\x01."))
    add("frame/two_frames", P4 + FR(b"K\x01") + FR(b"K\x02\x86."))
    add("frame/empty", P4 + FR(b"") + b"N.")
    add("frame/stop_outside", P4 + FR(b"K\x01") + b".")
    add("frame/trailing_in_frame", P4 + FR(b"K\x01.K\x02"))
    add("frame/before_proto", FR(b"N."))
    add("frame/at_proto2", P2 + FR(b"N."))
    add("frame/proto_inside", FR(P4 + b"N."))
    add("frame/len_2p63", P4 + b"\x95" + u8(2 ** 63) + b"N.")
    add("frame/truncated_len", P4 + b"\x95\x02\x00\x00")
    add("frame/ends_in_newline_arg", P4 + b"\x95" + u8(3) + b"I12" + b"3\n.")
    add("frame/big_binbytes_outside", P4 + FR(b"]\x94") + b"B" + u4(70000) + b"\x00" * 70000
        + FR(b"a."))

    # ---- parser confusion --------------------------------------------------------------------
    add("confusion/back_to_back", b"N.N.")
    add("confusion/payload_then_garbage", REC + b".\xff\xff\xff")
    add("confusion/garbage_after_stop_in_frame", P4 + FR(b"N.\xff"))
    add("confusion/get_missing_aborts_scan", GLOB + b")Rh\x09.")
    add("confusion/memo_redefined_operands",
        P4 + SU("safe") + b"\x94" + SU("os") + b"q\x00" + SU("system") + b"\x94h\x00h\x01\x93.")
    add("confusion/stack_global_dotted_builtins",
        P4 + SG("builtins", "getattr") + SG("builtins", "__import__") + SU("os") + b"\x85R"
        + SU("system") + b"\x86R.")
    add("confusion/genops_ok_int_0x10", b"I0x10\n.")
    add("confusion/genops_get_0x10", b"Np16\ng0x10\n.")
    add("confusion/dis_redefined_memo", b"Np0\n0Np0\n.")
    add("confusion/dis_nonempty_stack", b"NN.")

    # ---- resource shapes ------------------------------------------------------------------
    # (each nesting level costs ~90-120 bytes of output, so 2000-10000 deep: past any
    # recursion limit, well inside the size budget; see docs/sandbox.md "Size budget")
    add("resource/deep_tuple1_10000", b"N" + b"\x85" * 10000 + b".")
    add("resource/deep_lists_mark_5000", b"(" * 5000 + b"l" * 5000 + b".")
    add("resource/deep_lists_append_2000", b"]" * 2000 + b"a" * 1999 + b".")
    add("resource/deep_dicts_2000", b"}" + b"K\x01}" * 1999 + b"s" * 1999 + b".")
    add("resource/marks_10000_stop", b"(" * 10000 + b"N.")
    sh = P2 + b"]q\x00"
    for i in range(40):
        sh += b"h" + u1(i) + b"h" + u1(i) + b"\x86q" + u1(i + 1)
    add("resource/exponential_sharing_40", sh + b".")
    add("resource/binbytes8_2p62", P4 + b"\x8e" + u8(2 ** 62) + b"x.")
    add("resource/binbytes8_2p63", P4 + b"\x8e" + u8(2 ** 63) + b"x.")
    add("resource/long_binput_7fffffff", P2 + b"Nr\xff\xff\xff\x7f.")
    add("resource/long_text_quadratic", b"L" + b"9" * 50000 + b"L\n.")
    add("resource/many_memo_entries", P4 + b"(" + b"N\x94" * 2000 + b"l.")
    return cases


# =============================================================================================
# Decode cases (run in worker processes)

_SB = None


def _sandbox():
    global _SB
    if _SB is None:
        sys.path.insert(0, HERE)
        import brine_sandbox
        _SB = brine_sandbox
    return _SB


LIMIT_TYPES = ("MemoryError", "RecursionError", "Timeout")


def kind_of(node):
    if node.get("t") == "error":
        return "error:" + node["type"]
    return node["t"]


def decode_case(task):
    name, source, data, buffers, note = task
    sb = _sandbox()
    # CPython sometimes prints to stderr on its own (an uninitialised bytearray freed after a
    # failed allocation prints "SystemError: deallocated bytearray object has exported
    # buffers"): catch that and keep it as a note on the case
    import io
    real_stderr = sys.stderr
    sys.stderr = captured = io.StringIO()
    try:
        c = sb.loads_c(data, buffers, timeout=LOAD_TIMEOUT)
        printed_c = captured.getvalue()
        captured.seek(0)
        captured.truncate()
        py = sb.loads_py(data, buffers, timeout=LOAD_TIMEOUT)
        printed_py = captured.getvalue()
    finally:
        sys.stderr = real_stderr
    for engine, printed in (("C", printed_c), ("Python", printed_py)):
        if printed:
            extra = "the %s unpickler printed to stderr: %s" % (engine, printed.strip())
            note = extra if not note else note + "; " + extra
    ops = sb.genops_json(data)
    cj = sb.dumps_json(c)
    pj = sb.dumps_json(py)
    limit = kind_of(c)[6:] in LIMIT_TYPES or kind_of(py)[6:] in LIMIT_TYPES
    parts = ['{"name":', json.dumps(name), ',"source":', json.dumps(source),
             ',"pickle":"', data.hex(), '"']
    if buffers:
        parts.append(',"buffers":%d' % buffers)
    parts += [',"c":', cj, ',"python":', pj, ',"genops":', sb.dumps_json(ops)]
    if limit:
        parts.append(',"limit":true')
    if note:
        parts += [',"note":', json.dumps(note)]
    parts.append("}\n")
    # a C-vs-Python difference: nodes differ once error messages are dropped
    cn = dict(c, message=None) if c.get("t") == "error" else None
    pn = dict(py, message=None) if py.get("t") == "error" else None
    same = (cn == pn) if (cn is not None or pn is not None) else (cj == pj)
    return "".join(parts), (kind_of(c), kind_of(py), same, limit)


# =============================================================================================
# Mutations

def mutations_of(label, data, rng):
    """[(kind, index, bytes)] for one source pickle"""
    if len(data) <= MUT_SMALL_SOURCE:
        src = data
        ntrunc, nflip, nins, ndel = MUT_FULL_RECIPE
    else:
        src = data[:MUT_LARGE_CAP]
        ntrunc, nflip, nins, ndel = MUT_LARGE_RECIPE
    n = len(src)
    out = []
    if n <= ntrunc:
        cuts = list(range(n))
    else:
        cuts = sorted({i * n // ntrunc for i in range(ntrunc)})
    for k in cuts:
        out.append(("truncate", k, src[:k]))
    for i in range(nflip):
        if n == 0:
            break
        pos = rng.randrange(n)
        b = bytearray(src)
        if rng.random() < 0.5:
            b[pos] ^= 1 << rng.randrange(8)
            kind = "flip"
        else:
            b[pos] = rng.randrange(256)
            kind = "overwrite"
        out.append((kind, i, bytes(b)))
    for i in range(nins):
        pos = rng.randrange(n + 1)
        out.append(("insert", i, src[:pos] + bytes([rng.randrange(256)]) + src[pos:]))
    for i in range(ndel):
        if n == 0:
            break
        pos = rng.randrange(n)
        out.append(("delete", i, src[:pos] + src[pos + 1:]))
    return out


# =============================================================================================
# Random builtin documents (encoder tests)

class DocGen:
    def __init__(self, rng):
        self.rng = rng

    def new_doc(self, budget):
        self.budget = budget
        self.pool_hashable = []     # shared str/bytes/tuple/frozenset objects
        self.pool_mutable = []      # lists/dicts/sets/bytearrays made so far
        self.ancestors = []         # open lists/dicts
        return self.value(0)

    def text(self):
        r = self.rng
        kind = r.random()
        n = r.choice([0, 1, 1, 2, 3, 5, 8, 13] * 10 + [40, 255, 256])
        if kind < 0.5:
            alphabet = "abcdefghijklmnopqrstuvwxyz_ 0123456789"
            return "".join(r.choice(alphabet) for _ in range(n))
        if kind < 0.7:
            return "".join(chr(r.randrange(0, 0x100)) for _ in range(n))
        if kind < 0.9:
            return "".join(chr(r.randrange(0x100, 0xd800)) for _ in range(n))
        if kind < 0.96:
            return "".join(chr(r.choice([r.randrange(0x10000, 0x110000),
                                         r.randrange(0xe000, 0x10000)])) for _ in range(n))
        return "".join(chr(r.randrange(0xd800, 0xe000)) for _ in range(max(n, 1)))

    def data(self):
        r = self.rng
        n = r.choice([0, 1, 2, 3, 16] * 10 + [255, 256, 300])
        return bytes.fromhex("".join("%02x" % r.randrange(256) for _ in range(n)))

    def number(self, nan=True):
        r = self.rng
        k = r.random()
        if k < 0.3:
            return r.randrange(-300, 300)
        if k < 0.5:
            return r.choice([0, 1, -1, 255, 256, 65535, 65536, 2 ** 31 - 1, 2 ** 31, -2 ** 31,
                             -2 ** 31 - 1, 2 ** 63, -2 ** 63 - 1, 2 ** 64, 2 ** 2039,
                             -2 ** 2039 - 1])
        if k < 0.65:
            return r.randrange(-2 ** r.randrange(1, 200), 2 ** r.randrange(1, 200))
        if k < 0.75:
            # NaN hashes by identity since 3.10: in a set it would make the order depend on
            # memory addresses, so it appears only where it is not hashed
            return r.choice([0.0, -0.0, float("inf"), float("-inf"), 1e16, 5e-324,
                             1.7976931348623157e308] + ([float("nan")] if nan else []))
        return r.uniform(-1e6, 1e6) * 10 ** r.randrange(-20, 20)

    def atom(self, nan=True):
        r = self.rng
        k = r.random()
        if k < 0.05:
            return None
        if k < 0.1:
            return r.random() < 0.5
        if k < 0.45:
            return self.number(nan)
        if k < 0.8:
            s = self.text()
            self.pool_hashable.append(s)
            return s
        if k < 0.95:
            b = self.data()
            self.pool_hashable.append(b)
            return b
        return ()

    def hashable(self, depth):
        r = self.rng
        self.budget -= 1
        if self.pool_hashable and r.random() < 0.08:
            return r.choice(self.pool_hashable)
        if depth < 4 and self.budget > 0 and r.random() < 0.15:
            items = [self.hashable(depth + 1) for _ in range(r.randrange(0, 4))]
            o = tuple(items) if r.random() < 0.6 else frozenset(items)
            self.pool_hashable.append(o)
            return o
        return self.atom(nan=False)

    def value(self, depth):
        r = self.rng
        self.budget -= 1
        k = r.random()
        if self.ancestors and k < 0.03:
            return r.choice(self.ancestors)        # a cycle (through lists/dicts only)
        if k < 0.08 and (self.pool_mutable or self.pool_hashable):
            pool = self.pool_mutable if (self.pool_mutable and r.random() < 0.5) else None
            if pool:
                return r.choice(pool)
            if self.pool_hashable:
                return r.choice(self.pool_hashable)
        if depth > 12 or self.budget <= 0 or k < 0.45:
            if r.random() < 0.05:
                b = bytearray(self.data())
                self.pool_mutable.append(b)
                return b
            return self.atom()
        n = self.size()
        kind = r.random()
        if kind < 0.35:
            o = []
            self.pool_mutable.append(o)
            self.ancestors.append(o)
            for _ in range(n):
                o.append(self.value(depth + 1))
            self.ancestors.pop()
            return o
        if kind < 0.6:
            o = {}
            self.pool_mutable.append(o)
            self.ancestors.append(o)
            for _ in range(n):
                o[self.hashable(depth + 1)] = self.value(depth + 1)
            self.ancestors.pop()
            return o
        if kind < 0.8:
            o = tuple(self.value(depth + 1) for _ in range(n))
            if r.random() < 0.3 and hashable_without_nan(o):
                self.pool_hashable.append(o)
            return o
        if kind < 0.9:
            o = set(self.hashable(depth + 1) for _ in range(n))
            self.pool_mutable.append(o)
            return o
        o = frozenset(self.hashable(depth + 1) for _ in range(n))
        self.pool_hashable.append(o)
        return o

    def size(self):
        r = self.rng
        k = r.random()
        if k < 0.6:
            n = r.randrange(0, 5)
        elif k < 0.9:
            n = r.randrange(5, 30)
        elif k < 0.99:
            n = r.choice([999, 1000, 1001, 150, 64])
        else:
            n = r.randrange(2000, 2100)
        return max(0, min(n, self.budget))


def hashable_without_nan(o):
    try:
        hash(o)
    except TypeError:
        return False
    stack = [o]
    while stack:
        x = stack.pop()
        if type(x) is float and x != x:
            return False
        if type(x) in (tuple, frozenset):
            stack.extend(x)
    return True


def random_documents(seed):
    """[(label, obj, protocols)]"""
    rng = random.Random(seed * 7919 + 13)
    gen = DocGen(rng)
    docs = []
    for i in range(RANDOM_DOCS):
        k = rng.random()
        budget = 2 if k < 0.5 else 8 if k < 0.85 else 20 if k < 0.99 else 100
        docs.append(("random/%04d" % i, gen.new_doc(budget), range(6)))
    # a few large documents: framing and out-of-frame writes at protocols 4-5
    big = bytes(rng.randrange(256) for _ in range(1 << 16))
    # (framing exists from protocol 4 on and protocol 5 writes these as 4 does: the large
    # documents are written at protocol 4 only; see docs/sandbox.md "Size budget")
    docs.append(("large/bytes_frame_boundaries",
                 [big[:65535], big[:65536], b"tail", list(range(3000))], (4,)))
    docs.append(("large/str_and_items",
                  ["x" * 70000, "\u20ac" * 30000, [str(i) for i in range(2000)]], (4,)))
    docs.append(("large/three_frames", ["y" * (192 * 1024), big * 2, list(range(2000))], (4,)))
    return docs


# =============================================================================================
# main

SHARD_BYTES = 4 << 20


def write_jsonl(path, header, lines):
    """Writes `path` (NAME.jsonl), or, when the lines come to more than SHARD_BYTES, the
    shards NAME-1.jsonl, NAME-2.jsonl... of at most SHARD_BYTES each (bar a single longer
    line), each starting with the header; stale shards of NAME are removed. Readers take
    every shard (brine_sandbox.jsonl_shards)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    import brine_sandbox
    for old in brine_sandbox.jsonl_shards(os.path.dirname(path), os.path.basename(path)[:-len(".jsonl")]):
        os.remove(old)
    shards, size = [[]], 0
    for line in lines:
        if size + len(line) > SHARD_BYTES and shards[-1]:
            shards.append([])
            size = 0
        shards[-1].append(line)
        size += len(line)
    names = [path] if len(shards) == 1 else [path[:-len(".jsonl")] + "-%d.jsonl" % (i + 1) for i in range(len(shards))]
    for name, part in zip(names, shards):
        with open(name, "w", encoding="utf-8") as f:
            f.write(json.dumps(header) + "\n")
            f.writelines(part)



def run_decode(pool, tasks, stats_key, stats):
    lines = []
    results = pool.imap(decode_case, tasks, chunksize=16) if pool else map(decode_case, tasks)
    for line, st in results:
        lines.append(line)
        stats.setdefault(stats_key, []).append(st)
    return lines


def diff_table(stats):
    rows = {}
    total = 0
    for key, sts in stats.items():
        for ck, pk, same, limit in sts:
            total += 1
            if not same:
                rows.setdefault((ck, pk), {}).setdefault(key, 0)
                rows[(ck, pk)][key] += 1
    files = list(stats)
    out = ["| c | python | " + " | ".join(files) + " | total |",
           "|---|---|" + "---|" * len(files) + "---|"]
    for (ck, pk), per in sorted(rows.items(), key=lambda kv: -sum(kv[1].values())):
        out.append("| %s | %s | %s | %d |" % (ck, pk, " | ".join(str(per.get(f, 0)) for f in files),
                                            sum(per.values())))
    ndiff = sum(sum(v.values()) for v in rows.values())
    return "\n".join(out), ndiff, total


def main():
    reexec_with_fixed_hash_seed()
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default=os.path.join(REPO, "conformance"))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--no-docs", action="store_true", help="don't update docs/sandbox.md")
    args = ap.parse_args()
    t0 = time.time()
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = ADDRESS_SPACE_LIMIT if hard == resource.RLIM_INFINITY else min(hard, ADDRESS_SPACE_LIMIT)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))

    sb = _sandbox()
    import pickle
    bv = make_brine_values()
    header = {"header": True, "python": sys.version, "generator": "scripts/gen_conformance.py",
              "seed": args.seed}
    decode_dir = os.path.join(args.out, "decode")
    encode_dir = os.path.join(args.out, "encode")
    counts = {}
    stats = {}

    # ---- values -------------------------------------------------------------------------------
    values = build_values(bv)
    value_tasks = []
    encode_from_values = []
    skipped = []
    labels = set()
    for label, obj, kw in values:
        assert label not in labels, label
        labels.add(label)
        for proto in kw.get("protocols", range(6)):
            try:
                data, nbuf = dump_value(obj, proto, kw, bv)
            except Exception as e:
                skipped.append("%s/p%d (%s: %s)" % (label, proto, type(e).__name__,
                                                     str(e)[:60]))
                continue
            value_tasks.append(("values/%s/p%d" % (label, proto), "values", data, nbuf, None))
        if is_builtin_doc(obj) and not (set(kw) - {"protocols"}):
            encode_from_values.append(("values/" + label, obj, kw.get("protocols", range(6))))

    import multiprocessing
    pool = multiprocessing.get_context("fork").Pool(args.jobs) if args.jobs > 1 else None

    lines = run_decode(pool, value_tasks, "values", stats)
    write_jsonl(os.path.join(decode_dir, "values.jsonl"), header, lines)
    counts["decode/values.jsonl"] = len(lines)
    print("values: %d cases (%d value/protocol pairs skipped: CPython cannot pickle them)"
          % (len(lines), len(skipped)))
    for s in skipped:
        print("  skipped", s)

    # ---- pickletester -------------------------------------------------------------------------
    pt_path, literals = pickletester_literals()
    tasks = [(name, "pickletester", data, 0, note) for name, data, note in literals]
    lines = run_decode(pool, tasks, "pickletester", stats)
    h = dict(header)
    if pt_path:
        h["pickletester"] = pt_path
    write_jsonl(os.path.join(decode_dir, "pickletester.jsonl"), h, lines)
    counts["decode/pickletester.jsonl"] = len(lines)

    # ---- handwritten --------------------------------------------------------------------------
    hw = handwritten_cases()
    tasks = [(name, "handwritten", data, bufs, note) for name, data, bufs, note in hw]
    lines = run_decode(pool, tasks, "handwritten", stats)
    write_jsonl(os.path.join(decode_dir, "handwritten.jsonl"), header, lines)
    counts["decode/handwritten.jsonl"] = len(lines)

    # ---- mutations ----------------------------------------------------------------------------
    rng = random.Random(args.seed)
    seen = set(t[2] for t in value_tasks)
    tasks = []
    for name, _src, data, nbuf, _note in value_tasks:
        short = name.replace("/", "_")
        for kind, idx, mdata in mutations_of(short, data, rng):
            if mdata in seen:
                continue
            seen.add(mdata)
            tasks.append(("mutation/%s/%s/%d" % (kind, short, idx), "mutation", mdata, nbuf,
                          None))
    lines = run_decode(pool, tasks, "mutations", stats)
    write_jsonl(os.path.join(decode_dir, "mutations.jsonl"), header, lines)
    counts["decode/mutations.jsonl"] = len(lines)
    if pool:
        pool.close()
        pool.join()

    # ---- encode -------------------------------------------------------------------------------
    docs = encode_from_values + random_documents(args.seed)
    enc_lines = []
    mismatches = []
    skipped_enc = []
    unstable = 0
    for label, obj, protos in docs:
        # A set rebuilt by adding its items in its own iteration order may iterate in another
        # order (collisions, resizes).  Use the object rebuilt from its own document until
        # that is a fixed point, so doc -> object -> document is stable (the oracle and the
        # encoder tests rely on that).
        value_json = sb.dumps_json(sb.to_json(obj))
        for _ in range(6):
            obj = sb.doc_to_object(json.loads(value_json))
            again_json = sb.dumps_json(sb.to_json(obj))
            if again_json == value_json:
                break
            value_json = again_json
        else:
            unstable += 1
            mismatches.append("%s: document order of sets does not settle" % label)
            continue
        rebuilt = sb.doc_to_object(json.loads(value_json))
        for proto in protos:
            try:
                data = pickle.dumps(obj, proto)
            except Exception as e:
                skipped_enc.append("%s/p%d: %s: %s" % (label, proto, type(e).__name__,
                                                      str(e)[:60]))
                continue
            again = pickle.dumps(rebuilt, proto)
            if again != data:
                mismatches.append("%s/p%d: doc_to_object pickles differently" % (label, proto))
                continue
            enc_lines.append('{"name":%s,"protocol":%d,"value":%s,"pickle":"%s"}\n'
                             % (json.dumps("%s/p%d" % (label, proto)), proto, value_json,
                                data.hex()))
    write_jsonl(os.path.join(encode_dir, "values.jsonl"), header, enc_lines)
    counts["encode/values.jsonl"] = len(enc_lines)
    kept_random = len({line.split('"')[3].rsplit("/", 1)[0] for line in enc_lines
                       if line.startswith('{"name":"random/')})
    print("encode: %d random documents kept (of %d)" % (kept_random, RANDOM_DOCS))
    assert kept_random >= 3000, kept_random
    print("encode: %d documents, %d cases dropped because doc_to_object(value) pickles "
          "differently (should be 0), %d documents whose set order did not settle, "
          "%d document/protocol pairs CPython cannot pickle"
          % (len(docs), len(mismatches) - unstable, unstable, len(skipped_enc)))
    for m in mismatches[:20]:
        print("  dropped", m)
    for m in skipped_enc:
        print("  not picklable", m)

    # ---- report -------------------------------------------------------------------------------
    table, ndiff, total = diff_table(stats)
    total_bytes = 0
    for rel, n in counts.items():
        import brine_sandbox
        d, stem = os.path.split(os.path.join(args.out, rel))
        size = sum(os.path.getsize(f) for f in brine_sandbox.jsonl_shards(d, stem[:-len(".jsonl")]))
        total_bytes += size
        print("%-28s %7d cases %8.1f MB" % (rel, n, size / 1e6))
    print("total %.1f MB" % (total_bytes / 1e6))
    limits = sum(1 for sts in stats.values() for st in sts if st[3])
    print("decode cases where C and Python differ (messages ignored): %d of %d; limit cases: %d"
          % (ndiff, total, limits))
    print(table)
    if not args.no_docs:
        update_docs(table, ndiff, total, limits, counts)
    print("done in %.1f s" % (time.time() - t0))


def update_docs(table, ndiff, total, limits, counts):
    path = os.path.join(REPO, "docs", "sandbox.md")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if DIFF_BEGIN not in text or DIFF_END not in text:
        return
    body = ("\n%d of %d decode cases differ between the C and the Python unpickler (error "
            "messages ignored); %d cases are marked \"limit\". Case counts: %s.\n\n%s\n"
            % (ndiff, total, limits,
               ", ".join("%s %d" % (k, v) for k, v in counts.items()), table))
    a = text.index(DIFF_BEGIN) + len(DIFF_BEGIN)
    b = text.index(DIFF_END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:a] + body + text[b:])


if __name__ == "__main__":
    main()
