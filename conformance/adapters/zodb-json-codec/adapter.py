"""brine adapter for zodb-json-codec (a Rust pickle <-> JSON transcoder for ZODB, PyO3 wheel).

    adapter.py decode   zodb_json_codec.pickle_to_dict(data), its tagged model -> pickle JSON
    adapter.py encode   pickle JSON -> its tagged model -> zodb_json_codec.json_to_pickle(text)

The codec never builds Python objects from a pickle: its Rust decoder runs a subset of the
pickle machine into its own value tree (PickleValue) and pickle_to_dict writes that as plain
Python values with `@`-markers. Nothing a pickle names is imported or run. Any exception
pickle_to_dict raises (ValueError for its own errors) is a rejection. A Rust panic reaches
Python as pyo3's PanicException (a BaseException): it is not caught, the process dies and the
case is a crash, as a panic is.

Its model has no identity (a memo GET copies the value, a cycle is cut), keeps Python 2 strs
(STRING, BINSTRING, SHORT_BINSTRING) as bytes, and recognizes some REDUCE patterns as typed
markers. The decoder maps the model to pickle JSON as CPython's sandbox would have recorded
the same pickle:

    null/bool/int/float/str, list, dict (str keys)  the same values
    {"@t"}, {"@b"} (base64), {"@bi"}, {"@d"} (pairs), {"@set"}, {"@fset"}
                                    tuple, bytes, int, dict, set, frozenset
    {"@cls": [m, n]}                the global (named as CPython's find_class names it:
                                    fix_imports renames while the protocol is below 3)
    {"@reduce": {callable, args, newobj?, items?, appends?, state?}}
                                    an object: a call (REDUCE) or newobj (NEWOBJ; args
                                    {"@args", "@kwargs"}: NEWOBJ_EX) with append, setitem
                                    and build ops
    {"@cls", "@s"}                  an object made from the global with no args (or
                                    @s {"@args", "@state"}), then a build op of the state
    {"@inst": {@obj|@callable+@args, @state}}  the object (or call) plus a build op
    {"@ref": pid}                   a persistent id object
    {"@dt"}, {"@date"}, {"@time"}, {"@td"}, {"@dec"}, {"@uuid"}
                                    the call CPython records for the datetime, date, time,
                                    timedelta, Decimal (REDUCE) or UUID (NEWOBJ + build)
                                    the pickler writes, rebuilt from the marker's text

The model does not say whether an object came from REDUCE or NEWOBJ (only NEWOBJ_EX and, in
some places, a "newobj" key tell): the adapter takes the kind from the opcodes of the stream
(pickletools.genops over the bytes): a stream with NEWOBJ and no REDUCE means newobj, one
with REDUCE and no NEWOBJ a call. When the stream has both, or the model holds what pickle
JSON cannot write ({"@pkl"}, {"@tz"} zones, BUILD on a plain value), the adapter prints no
value and the case is judged on accept/reject. Compared with the `sharing` leniency (no
identity) and `builtins` (it turns REDUCE of builtins.set(list) into {"@set"}).

The encoder maps a document the other way (refs expanded into copies, the codec having no
identity; a cycle is refused) and refuses what its JSON cannot say: bytearray, NaN and
infinities (its JSON parser is strict), lone surrogates, objects other than a call with no
ops, a global's newobj with no args and one build op, or a persistent id. json_to_pickle
parses the text into a sorted map: a dict with str keys comes back with its keys sorted (a
wrong value, unless they were in order), which `dict_to_pickle` would not do.
"""
import base64
import datetime
import decimal
import io
import json
import os
import pickletools
import sys
import uuid

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

import _compat_pickle  # noqa: E402
import zodb_json_codec as zjc  # noqa: E402


class NoNode(Exception):
    """The model holds something this adapter cannot write as pickle JSON."""


# ---------------------------------------------------------------------------------------------
# Decoder

def stream_facts(data):
    """(protocol, has REDUCE, has NEWOBJ) from pickletools.genops over the first pickle;
    (0, True, True) when genops cannot follow it (the kind then stays unknown)."""
    proto, ops = 0, set()
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(data)):
            if op.name == "PROTO":
                proto = arg
            ops.add(op.name)
    except Exception:
        return 0, True, True
    return proto, "REDUCE" in ops, "NEWOBJ" in ops


class ToNode:
    def __init__(self, data):
        self.proto, self.has_reduce, self.has_newobj = stream_facts(data)

    def kind(self, newobj=False):
        if newobj:
            return "newobj"
        if self.has_newobj and not self.has_reduce:
            return "newobj"
        if self.has_reduce and not self.has_newobj:
            return "call"
        raise NoNode("REDUCE or NEWOBJ: the model does not say, the stream has both")

    def glob(self, pair):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
            raise NoNode("@cls %r" % (pair,))
        module, name = pair
        if self.proto < 3:  # CPython's find_class (fix_imports) names it so
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        return {"t": "global", "module": module, "name": name}

    def items(self, v):
        """A tuple/list model value's items as nodes."""
        if isinstance(v, dict) and set(v) == {"@t"} and isinstance(v["@t"], list):
            v = v["@t"]
        if not isinstance(v, list):
            raise NoNode("args %r" % (type(v),))
        return [self.node(x) for x in v]

    def pairs(self, v):
        if isinstance(v, dict) and set(v) == {"@d"}:
            v = v["@d"]
        if isinstance(v, dict):
            return [[self.node(k), self.node(x)] for k, x in v.items()]
        if isinstance(v, list) and all(isinstance(p, list) and len(p) == 2 for p in v):
            return [[self.node(k), self.node(x)] for k, x in v]
        raise NoNode("items %r" % (type(v),))

    def obj(self, kind, callee, args, kwargs=None, appends=None, items=None, state=None):
        new = {kind: callee, "args": args}
        if kwargs:
            new["kwargs"] = kwargs
        ops = []
        for x in appends or ():
            ops.append({"op": "append", "item": x})
        for k, x in items or ():
            ops.append({"op": "setitem", "key": k, "value": x})
        if state is not None:
            ops.append({"op": "build", "state": state})
        return {"t": "object", "new": new, "ops": ops}

    def reduce(self, r):
        if not isinstance(r, dict) or "callable" not in r or "args" not in r:
            raise NoNode("@reduce %r" % (r,))
        callee = self.node(r["callable"])
        args = r["args"]
        kwargs = None
        if isinstance(args, dict) and set(args) == {"@args", "@kwargs"}:  # NEWOBJ_EX
            kind = "newobj"
            kwargs = self.pairs(args["@kwargs"])
            args = self.items(args["@args"])
        else:
            kind = self.kind(r.get("newobj") is True)
            args = self.items(args)
        appends = [self.node(x) for x in r["appends"]] if "appends" in r else None
        items = self.pairs(r["items"]) if "items" in r else None
        state = self.node(r["state"]) if "state" in r else None
        return self.obj(kind, callee, args, kwargs, appends, items, state)

    def instance(self, v):
        callee = self.glob(v["@cls"])
        s = v["@s"]
        args = []
        if isinstance(s, dict) and set(s) == {"@args", "@state"}:
            args = self.items(s["@args"])
            s = s["@state"]
        appends = [self.node(x) for x in v["@appends"]] if "@appends" in v else None
        items = self.pairs(v["@items"]) if "@items" in v else None
        return self.obj(self.kind(), callee, args, None, appends, items, self.node(s))

    def inst(self, v):
        if not isinstance(v, dict) or "@state" not in v:
            raise NoNode("@inst %r" % (v,))
        state = self.node(v["@state"])
        if "@obj" in v:
            target = self.node(v["@obj"])
            if target.get("t") != "object":  # BUILD on a plain value: no such node
                raise NoNode("BUILD on a %s" % target.get("t"))
            target = dict(target, ops=target["ops"] + [{"op": "build", "state": state}])
            return target
        return self.obj("call", self.node(v["@callable"]), self.items(v["@args"]),
                        state=state)

    @staticmethod
    def gl(module, name):
        return {"t": "global", "module": module, "name": name}

    def tz_args(self, value):
        tz = value.tzinfo
        if tz is None:
            return []
        off = tz.utcoffset(None)
        td = self.obj("call", self.gl("datetime", "timedelta"),
                      [{"t": "int", "v": str(x)} for x in (off.days, off.seconds, off.microseconds)])
        return [self.obj("call", self.gl("datetime", "timezone"), [td])]

    def known(self, key, v):
        """The call CPython records for a typed marker (the pickler's own __reduce__)."""
        b = lambda x: {"t": "bytes", "v": x.hex()}  # noqa: E731
        if key == "@dt":
            value = datetime.datetime.fromisoformat(v)
            return self.obj("call", self.gl("datetime", "datetime"),
                            [b(value.__reduce__()[1][0])] + self.tz_args(value))
        if key == "@date":
            value = datetime.date.fromisoformat(v)
            return self.obj("call", self.gl("datetime", "date"), [b(value.__reduce__()[1][0])])
        if key == "@time":
            value = datetime.time.fromisoformat(v)
            return self.obj("call", self.gl("datetime", "time"),
                            [b(value.__reduce__()[1][0])] + self.tz_args(value))
        if key == "@td":
            if not (isinstance(v, list) and len(v) == 3 and all(type(x) is int for x in v)):
                raise NoNode("@td %r" % (v,))
            return self.obj("call", self.gl("datetime", "timedelta"),
                            [{"t": "int", "v": str(x)} for x in v])
        if key == "@dec":
            decimal.Decimal(v)  # only a number the model could have read is a value
            return self.obj("call", self.gl("decimal", "Decimal"), [{"t": "str", "v": v}])
        if key == "@uuid":
            state = {"t": "dict", "items": [[{"t": "str", "v": "int"},
                                             {"t": "int", "v": str(uuid.UUID(v).int)}]]}
            return self.obj("newobj", self.gl("uuid", "UUID"), [], state=state)
        raise AssertionError(key)

    def node(self, v):
        if v is None:
            return {"t": "none"}
        t = type(v)
        if t is bool:
            return {"t": "bool", "v": v}
        if t is int:
            return {"t": "int", "v": str(v)}
        if t is float:
            return {"t": "float", "v": repr(v)}
        if t is str:
            return au.sb._str_node(v)
        if t is bytes:
            return {"t": "bytes", "v": v.hex()}
        if t is list:
            return {"t": "list", "items": [self.node(x) for x in v]}
        if t is tuple:
            return {"t": "tuple", "items": [self.node(x) for x in v]}
        if t is not dict:
            raise NoNode("model value of type %s" % t.__name__)
        keys = set(v)
        if len(keys) == 1:
            (key,) = keys
            x = v[key]
            if key == "@t" and type(x) is list:
                return {"t": "tuple", "items": [self.node(i) for i in x]}
            if key == "@b" and type(x) is str:
                return {"t": "bytes", "v": base64.b64decode(x).hex()}
            if key == "@bi" and type(x) is str:
                return {"t": "int", "v": str(int(x))}
            if key == "@d" and type(x) is list:
                return {"t": "dict", "items": self.pairs(x)}
            if key in ("@set", "@fset") and type(x) is list:
                return {"t": "set" if key == "@set" else "frozenset",
                        "items": [self.node(i) for i in x]}
            if key == "@cls":
                return self.glob(x)
            if key == "@reduce":
                return self.reduce(x)
            if key == "@inst":
                return self.inst(x)
            if key == "@ref":
                return {"t": "object", "new": {"persid": self.node(x)}, "ops": []}
            if key in ("@dt", "@date", "@time", "@td", "@dec", "@uuid"):
                try:
                    return self.known(key, x)
                except (ValueError, TypeError, ArithmeticError) as e:
                    # A marker whose payload Python cannot rebuild (Decimal(''), an
                    # out-of-range date): the model holds no value to write as a node, which
                    # is no crash of the implementation. (decimal.InvalidOperation is an
                    # ArithmeticError.)
                    raise NoNode("%s %r: %s" % (key, x, e))
            if key in ("@pkl", "@ns", "@tz"):
                raise NoNode(key)
        elif "@cls" in keys and "@s" in keys and keys <= {"@cls", "@s", "@items", "@appends"}:
            return self.instance(v)
        elif "@dt" in keys or "@time" in keys:
            raise NoNode("a datetime with a named zone (@tz)")
        return {"t": "dict", "items": [[self.node(k), self.node(x)] for k, x in v.items()]}


def decode(case):
    try:
        model = zjc.pickle_to_dict(case.data)
    except Exception as e:  # not BaseException: a Rust panic (PanicException) is a crash
        return au.reject(e)
    try:
        with au.recursion_limit(100_000), au.sb._IntDigits():
            node = ToNode(case.data).node(model)
    except (NoNode, ValueError, TypeError, OverflowError) as e:
        sys.stderr.write("zodb-json-codec adapter: no node for the value: %s\n" % e)
        return au.accept()
    return au.accept(node)


# ---------------------------------------------------------------------------------------------
# Encoder

I64 = (-(1 << 63), (1 << 63) - 1)


class ToModel:
    def __init__(self):
        self.defs = {}       # id -> finished node
        self.open = set()    # ids being converted (a ref to one is a cycle)
        self.budget = 2_000_000

    def str(self, n):
        if "hex" in n:
            raise au.Refused("a str with a lone surrogate")
        return n["v"]

    def model(self, n):
        self.budget -= 1
        if self.budget < 0:
            raise au.Refused("the document expands past 2,000,000 nodes without sharing")
        t = n["t"]
        if t == "ref":
            i = n["id"]
            if i in self.open or i not in self.defs:
                raise au.Refused("a cycle (the codec has no identity)")
            return self.model(dict(self.defs[i], id=None))
        nid = n.get("id")
        if nid is not None:
            self.defs[nid] = n
            self.open.add(nid)
        try:
            return self.build(t, n)
        finally:
            self.open.discard(nid)

    def build(self, t, n):
        m = self.model
        if t == "none":
            return None
        if t == "bool":
            return bool(n["v"])
        if t == "int":
            v = int(n["v"])
            return v if I64[0] <= v <= I64[1] else {"@bi": str(v)}
        if t == "float":
            v = float(n["v"])
            if v != v or v in (float("inf"), float("-inf")):
                raise au.Refused("NaN and infinities have no JSON form")
            return v
        if t == "str":
            return self.str(n)
        if t == "bytes":
            return {"@b": base64.b64encode(bytes.fromhex(n["v"])).decode("ascii")}
        if t == "tuple":
            return {"@t": [m(x) for x in n["items"]]}
        if t == "list":
            return [m(x) for x in n["items"]]
        if t in ("set", "frozenset"):
            return {"@set" if t == "set" else "@fset": [m(x) for x in n["items"]]}
        if t == "dict":
            pairs = [(m(k), m(v)) for k, v in n["items"]]
            if all(type(k) is str and not k.startswith("@") for k, _ in pairs):
                return dict(pairs)
            return {"@d": [[k, v] for k, v in pairs]}
        if t == "global":
            if "module_hex" in n or "name_hex" in n:
                raise au.Refused("a global with a lone surrogate")
            return {"@cls": [n["module"], n["name"]]}
        if t == "object":
            new, ops = n["new"], n["ops"]
            if "call" in new and not ops:
                return {"@reduce": {"callable": m(new["call"]),
                                    "args": {"@t": [m(x) for x in new["args"]]}}}
            if "newobj" in new and new["newobj"].get("t") == "global" and not new["args"] \
                    and not new.get("kwargs") and len(ops) == 1 and ops[0]["op"] == "build":
                cls = m(new["newobj"])
                return {"@cls": cls["@cls"], "@s": m(ops[0]["state"])}
            raise au.Refused("an object the codec's JSON cannot write")
        raise au.Refused("%s has no form in the codec's JSON" % t)


def encode(document, protocol):
    with au.sb._IntDigits():
        model = ToModel().model(document)
    try:
        text = json.dumps(model, ensure_ascii=False, allow_nan=False)
    except (ValueError, RecursionError) as e:
        raise au.Refused("no JSON text: %s" % e)
    try:
        return zjc.json_to_pickle(text)
    except Exception as e:  # not BaseException: a Rust panic is a crash
        raise au.Refused("json_to_pickle: %s: %s" % (type(e).__name__, e))


if __name__ == "__main__":
    au.main(decode, encode)
