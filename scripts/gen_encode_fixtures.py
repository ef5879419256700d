#!/usr/bin/python3.11
"""Encoder fixtures beyond builtin values: reduced objects, globals, persistent ids, buffers.

    /usr/bin/python3.11 scripts/gen_encode_fixtures.py

Writes crates/brine-codec/tests/data/encode_objects.jsonl (first line a header), one line
per (object, protocol):
    {"name", "protocol", "value", "pickle", "buffers", "reencode"}
where "pickle" is what CPython 3.11's C pickler writes for the object at that protocol
(pickle.dumps, or a Pickler with persistent_id / buffer_callback) and "value" is the object's
pickle JSON: the C unpickler's document (scripts/brine_sandbox.py) of its protocol 5 pickle,
where every construct has its own opcode (NEWOBJ for __newobj__, BYTEARRAY8, sets...).
The same document must give each protocol's bytes: that is what these fixtures test (the
reductions of protocols 0-4 included: REDUCE of copyreg.__newobj__, the functools.partial
CPython writes for keyword arguments at protocols 2-3, getattr for nested names...).
"reencode" says whether unpickling "pickle" symbolically and pickling that again must give
the same bytes (false where the symbolic graph is not the original one; see below).

Every expectation comes from the interpreter running this script: never edit the output.
Deterministic (no sets of objects that hash by address; PYTHONHASHSEED fixed).
"""

import copyreg
import io
import json
import os
import pickle
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "crates/brine-codec/tests/data/encode_objects.jsonl")


def reexec_with_fixed_hash_seed():
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


# ---- the objects ------------------------------------------------------------------------------

def mk(*args):
    """A callable that reduce values name (pickled by reference as __main__.mk)."""


class K:
    """A plain class: K.__new__ is object.__new__."""


class Outer:
    class Inner:
        class Deep:
            pass


class Rec:
    """An object whose reduce value is rv() and whose class claims to be cls."""

    def __init__(self, rv, cls=None):
        self._rv = rv
        self._cls = cls

    @property
    def __class__(self):
        return self._cls if self._cls is not None else Rec

    def __reduce_ex__(self, proto):
        return self._rv()


class Pid:
    """Pickled by persistent id."""

    def __init__(self, pid):
        self.pid = pid


class PidPickler(pickle.Pickler):
    def persistent_id(self, o):
        return o.pid if type(o) is Pid else None


def cases():
    out = []

    def add(name, obj, protocols=range(6), persistent=False, out_of_band=False, no_reencode=()):
        out.append((name, obj, protocols, persistent, out_of_band, no_reencode))

    def rec(rv, cls=None):
        return Rec(rv, cls)

    add("call_no_args", rec(lambda: (mk, ())))
    add("call_args", rec(lambda: (mk, (1, "s", b"bb", None, 2.5, "text"))))
    add("call_state", rec(lambda: (mk, (), {"a": 1, "b": [2]})))
    for n in (1, 2, 999, 1000, 1001, 2001):
        add("listitems_%d" % n, rec(lambda n=n: (mk, (), None, iter(range(n)))))
    for n in (1, 2, 1000, 1001):
        add("dictitems_%d" % n, rec(lambda n=n: (mk, (), None, None, iter([(i, -i) for i in range(n)]))))
    add("list_dict_state", rec(lambda: (mk, ("x",), {"s": 1}, iter(["a", "b"]), iter([("k", "v")]))))
    add("newobj", rec(lambda: (copyreg.__newobj__, (K, 1, "two")), K))
    add("newobj_no_args", rec(lambda: (copyreg.__newobj__, (K,)), K))
    add("newobj_state", rec(lambda: (copyreg.__newobj__, (K,), {"x": 1}), K))
    add("newobj_ex", rec(lambda: (copyreg.__newobj_ex__, (K, (1,), {"a": 2})), K))
    add("newobj_ex_no_args", rec(lambda: (copyreg.__newobj_ex__, (K, (), {"a": 2, "b": "c"})), K))
    shared = "shared text"
    add("newobj_ex_shared", rec(lambda: (copyreg.__newobj_ex__, (K, (shared,), {"k": shared}), {"s": shared}), K))
    # cycles: through a list (POP + GET of the second copy), through state
    lst = []
    r = rec(lambda: (mk, (lst,)))
    lst.append(r)
    add("cycle_through_args_list", r)
    r2 = rec(lambda: (mk, (), {"me": r2}))
    add("cycle_through_state", [r2, r2])
    # A set reduced below protocol 4 that an object's state leads back to: CPython writes
    # set([...]) twice, each time with a fresh list, pops the outer one and fetches the inner.
    # Unpickled symbolically, the inner set([...]) call holds a real list, which the object's
    # state reaches again, so that graph is not the original one and re-encoding it gives
    # other bytes (no re-encoding identity); the document of the protocol 5 pickle is exact.
    s = set()
    r3 = rec(lambda: (mk, (), {"set": s}))
    s.add(r3)
    add("set_cycle_through_state", s, no_reencode=range(4))
    fs_holder = {}
    r4 = rec(lambda: (mk, (), fs_holder))
    fs = frozenset([r4])
    fs_holder["fs"] = fs
    add("frozenset_cycle_through_state", fs, no_reencode=range(4))
    t_list = []
    t = (t_list, "x")
    t_list.append(t)
    add("recursive_tuple", t)
    t4_list = []
    t4 = (t4_list, 1, 2, 3, 4)
    t4_list.append(t4)
    add("recursive_tuple_long", t4)
    # globals
    add("global_class", K)
    add("global_function", mk)
    add("global_nested", Outer.Inner)
    add("global_nested_deep", [Outer.Inner.Deep, Outer.Inner, Outer])
    add("globals_one_module", [K, Outer, mk, K])
    # (From protocol 4 the module and name are memoized strs, and a C type's __module__ and
    # __qualname__ are new str objects at every access: no document says which of them are
    # one object, so only the GLOBAL protocols are fixtures here.)
    add("global_builtins", [len, str, range, object, ValueError, OSError], protocols=range(4))
    import collections
    add("global_stdlib", [collections.OrderedDict, collections.Counter])
    add("global_and_str_operands", [K, "K", "__main__"])
    add("object_in_dict_key", {rec(lambda: (mk, ())): 1, K: 2})
    # persistent ids
    add("persid_str", [Pid("p1"), Pid("p2"), "p1"], persistent=True)
    add("persid_int", [Pid(7), Pid(2 ** 70)], persistent=True)
    add("persid_tuple", [Pid(("a", 1)), Pid(("a", 1))], persistent=True, protocols=range(1, 6))
    shared_pid = Pid("same")
    add("persid_shared", [shared_pid, shared_pid], persistent=True)
    # out-of-band buffers
    add("buffers", [pickle.PickleBuffer(bytearray(b"abc")), pickle.PickleBuffer(b"ro"),
                    pickle.PickleBuffer(bytearray())], protocols=(5,), out_of_band=True)
    # a bytearray below protocol 5 is bytearray(bytes(...)) with a new bytes object, even
    # for one byte (PyBytes_FromObject makes no singleton); the latin-1 str of a one-byte
    # bytes is the singleton str. (Unpickled, protocols 3-4 give two one-byte bytes objects,
    # which a document cannot tell from the singleton: no re-encoding identity there.)
    add("bytearray_one_byte", [bytearray(b"a"), bytearray(b"a"), b"a", "a".encode().decode()],
        no_reencode=(3, 4))
    # large str/bytes inside objects and frames
    add("large_state", rec(lambda: (mk, ("y" * 70000,), {"b": b"z" * 65536, "n": list(range(3000))})),
        protocols=(4,))
    return out


def dump(obj, proto, persistent, out_of_band):
    if out_of_band:
        bufs = []
        return pickle.dumps(obj, proto, buffer_callback=bufs.append), len(bufs)
    if persistent:
        f = io.BytesIO()
        PidPickler(f, proto).dump(obj)
        return f.getvalue(), 0
    return pickle.dumps(obj, proto), 0


def main():
    reexec_with_fixed_hash_seed()
    sys.path.insert(0, HERE)
    import brine_sandbox as sb
    lines = []
    for name, obj, protocols, persistent, out_of_band, no_reencode in cases():
        doc_pickle, nbuf = dump(obj, 5, persistent, out_of_band)
        doc = sb.loads_c(doc_pickle, buffers=nbuf)
        assert doc.get("t") != "error", (name, doc)
        value = sb.dumps_json(doc)
        for proto in protocols:
            try:
                data, nbuf = dump(obj, proto, persistent, out_of_band)
            except Exception as e:
                print("  %s/p%d: CPython cannot pickle it: %s" % (name, proto, e))
                continue
            reenc = proto not in no_reencode
            lines.append('{"name":%s,"protocol":%d,"value":%s,"pickle":"%s","buffers":%d,"reencode":%s}\n'
                         % (json.dumps("%s/p%d" % (name, proto)), proto, value, data.hex(), nbuf,
                            "true" if reenc else "false"))
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w", encoding="utf-8") as f:
        f.write(json.dumps({"header": True, "python": sys.version,
                            "generator": "scripts/gen_encode_fixtures.py"}) + "\n")
        f.writelines(lines)
    print("wrote %s: %d cases" % (OUT, len(lines)))


if __name__ == "__main__":
    main()
