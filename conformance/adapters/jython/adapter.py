# -*- coding: utf-8 -*-
"""brine adapter for Jython 2.7's cPickle (org.python.modules.cPickle, Java), Python 2.7 code.

    jython adapter.py decode   cPickle.Unpickler(StringIO(data)) with find_global set

Sandboxed as CPython is for the corpus (docs/sandbox.md), written for Python 2.7 since it
runs in Jython: the Unpickler's `find_global` returns an inert stand-in class per
(module, name) and never imports, `persistent_load` an inert record; calling a stand-in
(REDUCE, INST/OBJ), its __new__ (NEWOBJ), BUILD (__setstate__), APPEND and SETITEM on it are
recorded, nothing is executed. Globals are named as CPython 3.11's find_class names them
(fix_imports: the renames of CPython's own Lib/_compat_pickle.py, read from
/usr/lib/python3.11, since every pickle Jython reads is below protocol 3). A case's extension
registry is installed with copy_reg.add_extension for the load and removed afterwards. Any
exception (Python or Java) from load() is a rejection: exit 1, its class name.

Values are written as pickle JSON with the object graph's sharing (ids); Python 2's dicts keep
no order (the dict-order leniency), floats are written as CPython's repr. Python 2's `str` (from
STRING, BINSTRING, SHORT_BINSTRING) is written as a str when it is ASCII (CPython 3 decodes them
with the ASCII codec by default), else the value is not written; `unicode` is a str, int and
long are ints. Only protocols 0-2 exist in Python 2.

Jython takes about 2 s to start, so the adapter is meant for the persistent protocol
(BRINE_PERSISTENT=1, conformance/README.md); it speaks the per-case one as well. Standard
library only.
"""
import binascii
import copy_reg
import cPickle
import json
import os
import sys
from cStringIO import StringIO

try:
    import java.lang
    JavaThrowable = java.lang.Throwable
except ImportError:  # not under Jython
    JavaThrowable = None

_compat = {}
try:
    execfile("/usr/lib/python3.11/_compat_pickle.py", _compat)
except Exception:
    _compat = {"NAME_MAPPING": {}, "IMPORT_MAPPING": {}}
NAME_MAPPING = _compat["NAME_MAPPING"]
IMPORT_MAPPING = _compat["IMPORT_MAPPING"]


# ---------------------------------------------------------------------------------------------
# Stand-ins

class Record(object):
    """An inert stand-in object: its construction and the ops done to it, recorded."""

    __slots__ = ("new", "ops", "__weakref__")

    def __init__(self, new):
        self.new = new
        self.ops = []

    def __call__(self, *args, **kwargs):
        return Record(("call", self, list(args)))

    def __setstate__(self, state):
        self.ops.append(("build", state))

    def append(self, item):
        self.ops.append(("append", item))

    def extend(self, items):
        for item in items:
            self.ops.append(("append", item))

    def __setitem__(self, key, value):
        self.ops.append(("setitem", key, value))

    def __hash__(self):
        return id(self)

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


class StandInMeta(type):
    def __call__(cls, *args, **kwargs):
        return Record(("call", cls, list(args)))


def _standin_new(cls, *args, **kwargs):
    return Record(("newobj", cls, list(args), sorted(kwargs.items())))


class Load(object):
    """One load: the stand-in classes made so far."""

    def __init__(self):
        self.classes = {}
        self.names = {}

    def find_global(self, module, name):
        key = (module, name)
        cls = self.classes.get(key)
        if cls is None:
            cls = StandInMeta("StandIn", (object,), {"__new__": _standin_new, "__slots__": ()})
            self.classes[key] = cls
            self.names[cls] = key
        return cls

    def persistent_load(self, pid):
        return Record(("persid", pid))


def cpython_name(module, name):
    if (module, name) in NAME_MAPPING:
        return NAME_MAPPING[(module, name)]
    if module in IMPORT_MAPPING:
        return IMPORT_MAPPING[module], name
    return module, name


# ---------------------------------------------------------------------------------------------
# Pickle JSON

class NoNode(Exception):
    pass


def utf8_surrogatepass(u):
    out = []
    for ch in u:
        c = ord(ch)
        if c < 0x80:
            out.append(chr(c))
        elif c < 0x800:
            out.append(chr(0xc0 | c >> 6) + chr(0x80 | c & 0x3f))
        elif c < 0x10000:
            out.append(chr(0xe0 | c >> 12) + chr(0x80 | c >> 6 & 0x3f) + chr(0x80 | c & 0x3f))
        else:
            out.append(chr(0xf0 | c >> 18) + chr(0x80 | c >> 12 & 0x3f) + chr(0x80 | c >> 6 & 0x3f)
                       + chr(0x80 | c & 0x3f))
    return "".join(out)


def text_node(u):
    try:
        u.encode("utf-8")
        ok = not any(0xd800 <= ord(ch) <= 0xdfff for ch in u)
    except UnicodeError:
        ok = False
    if ok:
        return {"t": "str", "v": u}
    return {"t": "str", "hex": binascii.hexlify(utf8_surrogatepass(u))}


def float_repr(x):
    """CPython's repr(float), the shortest digits that read back (Jython's repr is Java's
    Double.toString, e.g. 4.9e-324 for 5e-324)."""
    if x != x:
        return "nan"
    if x in (float("inf"), float("-inf")):
        return "inf" if x > 0 else "-inf"
    if x == 0:
        return "-0.0" if str(x).startswith("-") else "0.0"
    for p in range(17):
        s = "%.*e" % (p, x)
        if float(s) == x:
            break
    mant, exp = s.split("e")
    exp = int(exp)
    sign = "-" if mant.startswith("-") else ""
    digits = mant.lstrip("-").replace(".", "").rstrip("0") or "0"
    if -4 <= exp < 16:
        if exp >= 0:
            digits = digits.ljust(exp + 1, "0")
            return sign + digits[:exp + 1] + "." + (digits[exp + 1:] or "0")
        return sign + "0." + "0" * (-exp - 1) + digits
    rest = "." + digits[1:] if len(digits) > 1 else ""
    return "%s%s%se%s%02d" % (sign, digits[0], rest, "-" if exp < 0 else "+", abs(exp))


SHAREABLE = (list, dict, set, frozenset, Record)


def shareable(o):
    t = type(o)
    return t in SHAREABLE or (t is tuple and len(o) > 0)


def expand(o, load, nid=None):
    """(node, slots) as brine_sandbox._expand: slots (child, target, key) in document order."""
    t = type(o)
    if o is None:
        return {"t": "none"}, ()
    if t is bool:
        return {"t": "bool", "v": o}, ()
    if t in (int, long):
        return {"t": "int", "v": str(o)}, ()
    if t is float:
        return {"t": "float", "v": float_repr(o)}, ()
    if t is unicode:
        return text_node(o), ()
    if t is str:
        try:
            return text_node(o.decode("ascii")), ()
        except UnicodeError:
            raise NoNode("a non-ASCII Python 2 str")
    if t in (tuple, list, set, frozenset):
        items = [None] * len(o)
        node = {"t": {tuple: "tuple", list: "list", set: "set", frozenset: "frozenset"}[t],
                "items": items}
        if nid is not None:
            node["id"] = nid
        return node, [(x, items, i) for i, x in enumerate(o)]
    if t is dict:
        items, slots = [], []
        for k, v in o.items():
            pair = [None, None]
            items.append(pair)
            slots.append((k, pair, 0))
            slots.append((v, pair, 1))
        node = {"t": "dict", "items": items}
        if nid is not None:
            node["id"] = nid
        return node, slots
    if t is Record:
        new = o.new
        slots = []
        if new[0] in ("call", "newobj"):
            args = [None] * len(new[2])
            newnode = {new[0]: None, "args": args}
            slots.append((new[1], newnode, new[0]))
            slots.extend((x, args, i) for i, x in enumerate(new[2]))
            if new[0] == "newobj" and new[3]:
                raise NoNode("keyword arguments")
        else:
            newnode = {"persid": None}
            slots.append((new[1], newnode, "persid"))
        ops = []
        for op in o.ops:
            if op[0] == "build":
                n = {"op": "build", "state": None}
                slots.append((op[1], n, "state"))
            elif op[0] == "append":
                n = {"op": "append", "item": None}
                slots.append((op[1], n, "item"))
            else:
                n = {"op": "setitem", "key": None, "value": None}
                slots.append((op[1], n, "key"))
                slots.append((op[2], n, "value"))
            ops.append(n)
        node = {"t": "object", "new": newnode, "ops": ops}
        if nid is not None:
            node["id"] = nid
        return node, slots
    if isinstance(o, StandInMeta) and o in load.names:
        module, name = cpython_name(*load.names[o])
        node = {"t": "global"}
        node.update(name_field("module", module))
        node.update(name_field("name", name))
        return node, ()
    raise NoNode("a %s" % t.__name__)


def name_field(key, s):
    if isinstance(s, str):
        try:
            s = s.decode("utf-8")
        except UnicodeError:
            s = s.decode("latin-1")
    n = text_node(s)
    return {key: n["v"]} if "v" in n else {key + "_hex": n["hex"]}


def to_json(obj, load):
    """Iterative, two passes, as brine_sandbox.to_json."""
    counts = {}
    keep = []
    stack = [obj]
    while stack:
        o = stack.pop()
        if not shareable(o):
            continue
        k = id(o)
        if k in counts:
            counts[k] += 1
            continue
        counts[k] = 1
        keep.append(o)
        _, slots = expand(o, load)
        stack.extend(s[0] for s in reversed(slots))
    ids = {}
    holder = [None]
    stack = [(obj, holder, 0)]
    next_id = 1
    while stack:
        o, target, key = stack.pop()
        nid = None
        if shareable(o):
            k = id(o)
            if k in ids:
                target[key] = {"t": "ref", "id": ids[k]}
                continue
            if counts[k] > 1:
                ids[k] = nid = next_id
                next_id += 1
        node, slots = expand(o, load, nid)
        target[key] = node
        stack.extend(reversed(list(slots)))
    return holder[0]


def dumps(node):
    """json.dumps (ASCII) without recursion: values nest up to 100,000 deep."""
    out = []
    stack = [node]
    while stack:
        x = stack.pop()
        if isinstance(x, Raw):
            out.append(x.s)
        elif type(x) is dict:
            parts = []
            for i, (k, v) in enumerate(sorted(x.items(), key=key_rank)):
                parts.append(Raw(("," if i else "") + json.dumps(k) + ":"))
                parts.append(v)
            out.append("{")
            parts.append(Raw("}"))
            stack.extend(reversed(parts))
        elif type(x) is list:
            parts = []
            for i, v in enumerate(x):
                if i:
                    parts.append(Raw(","))
                parts.append(v)
            out.append("[")
            parts.append(Raw("]"))
            stack.extend(reversed(parts))
        else:
            out.append(json.dumps(x))
    return "".join(out)


# Keys in the order brine_sandbox writes them (Python 2 dicts keep none): the dict-order
# leniency orders dict items by their text, so a node's text must not depend on it.
KEY_ORDER = dict((k, i) for i, k in enumerate(
    ["case", "exit", "node", "t", "id", "v", "hex", "module", "module_hex", "name", "name_hex",
     "items", "new", "ops", "call", "newobj", "persid", "args", "kwargs", "op", "item", "key",
     "value", "state", "type", "message"]))


def key_rank(kv):
    return (KEY_ORDER.get(kv[0], len(KEY_ORDER)), kv[0])


class Raw(object):
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s


# ---------------------------------------------------------------------------------------------
# One case

def error_node(kind, message):
    try:
        message = unicode(message) if not isinstance(message, unicode) else message
    except Exception:
        message = u"<message not printable>"
    return {"t": "error", "type": kind, "message": message}


def with_extensions(entries, fn):
    added = []
    copy_reg._extension_cache.clear()
    try:
        for module, name, code in entries or ():
            module, name = str(module), str(name)
            if copy_reg._extension_registry.get((module, name)) == code:
                continue
            copy_reg.add_extension(module, name, code)
            added.append((module, name, code))
        return fn()
    finally:
        for module, name, code in reversed(added):
            copy_reg.remove_extension(module, name, code)
        copy_reg._extension_cache.clear()


def decode(data, extensions=()):
    """(exit, node or None)."""
    load = Load()

    def run():
        u = cPickle.Unpickler(StringIO(data))
        u.find_global = load.find_global
        u.persistent_load = load.persistent_load
        return u.load()

    try:
        result = with_extensions(extensions, run)
    except Exception, e:
        return 1, error_node(type(e).__name__, e)
    except BaseException, e:
        return 1, error_node(type(e).__name__, e)
    except:  # a Java Throwable that is no Python exception (StackOverflowError...)
        e = sys.exc_info()[1]
        return 1, error_node(getattr(type(e), "__name__", "Throwable"), e)
    try:
        return 0, to_json(result, load)
    except (NoNode, RuntimeError), e:
        sys.stderr.write("jython adapter: no node for the value: %s\n" % (e,))
        return 0, None


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else "decode"
    if mode != "decode":
        sys.stderr.write("this adapter has no encoder\n")
        sys.exit(2)
    out = sys.stdout
    if os.environ.get("BRINE_PERSISTENT") == "1":
        sys.stdout = sys.stderr  # nothing else may reach the answer stream
        while True:
            line = sys.stdin.readline()
            if not line:
                break
            if not line.strip():
                continue
            req = json.loads(line)
            code, node = decode(binascii.unhexlify(req["pickle"]), req.get("extensions") or ())
            answer = {"case": req.get("case"), "exit": code}
            if node is not None:
                answer["node"] = node
            out.write(dumps(answer) + "\n")
            out.flush()
        return 0
    data = sys.stdin.read()
    ext = json.loads(os.environ.get("BRINE_EXTENSIONS") or "[]")
    code, node = decode(data, ext)
    if node is not None:
        out.write(dumps(node) + "\n")
        out.flush()
    return code


if __name__ == "__main__":
    try:
        rc = main()
    except SystemExit:
        raise
    except:
        import traceback
        traceback.print_exc()
        rc = 3
    sys.stdout.flush()
    os._exit(rc)
