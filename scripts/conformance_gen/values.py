"""Values: pickle.dumps of builtin and stdlib values at protocols 0-5 (decode/values.jsonl).

Each value is pickled by CPython at every protocol it is meant for, and each pickle becomes a
decode case; the values that are builtin documents (None, bool, int, float, str, bytes,
bytearray and the containers) are also encode cases (encode/values.jsonl).
"""

import sys

# brine_values: the module whose classes the values pickle by reference (made by
# make_brine_values and put in sys.modules, so pickle finds its classes by name and their
# pickles say brine_values whatever script builds them).
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
# Values (in this order: the order of the cases in the output)

def build_values(bv):
    """[(label, object, options)]: options are protocols=(...) when not 0-5, persistent=True
    (a Pickler whose persistent_id writes bv.Persistent objects as ids), out_of_band=True
    (protocol 5 buffers handed to a buffer_callback)."""
    out = []

    def add(label, obj, **kw):
        out.append((label, obj, kw))

    for section in (_scalars, _containers, _shared_and_cycles, _stdlib, _objects):
        section(add, bv)
    return out


def _scalars(add, bv):
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


def _containers(add, bv):
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


def _shared_and_cycles(add, bv):
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


def _stdlib(add, bv):
    import array
    import collections
    import datetime
    import decimal
    import fractions
    import functools
    import ipaddress
    import pathlib
    import re
    import uuid

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


def _objects(add, bv):
    """Instances of brine_values' classes, exceptions, globals, persistent ids, buffers."""
    import pickle
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


def value_cases(bv):
    """The values' decode tasks (name, source, pickle, buffers, note), the builtin documents
    among them for the encode set ([(label, object, protocols)]), and the value/protocol pairs
    CPython cannot pickle (reported, not written)."""
    tasks = []
    encode_docs = []
    skipped = []
    labels = set()
    for label, obj, kw in build_values(bv):
        assert label not in labels, label
        labels.add(label)
        for proto in kw.get("protocols", range(6)):
            try:
                data, nbuf = dump_value(obj, proto, kw, bv)
            except Exception as e:
                skipped.append("%s/p%d (%s: %s)" % (label, proto, type(e).__name__,
                                                     str(e)[:60]))
                continue
            tasks.append(("values/%s/p%d" % (label, proto), "values", data, nbuf, None))
        if is_builtin_doc(obj) and not (set(kw) - {"protocols"}):
            encode_docs.append(("values/" + label, obj, kw.get("protocols", range(6))))
    return tasks, encode_docs, skipped
