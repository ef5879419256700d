"""Sandboxed CPython unpickling that yields "pickle JSON" (docs/pickle-json.md).

Used by scripts/gen_conformance.py and embedded by the Rust oracle through PyO3, so:
standard library only, no side effects at import time, nothing printed.

Public API:
    loads_c(data, buffers=0, timeout=None) -> node   (C unpickler, as pickle.loads runs it)
    loads_py(data, buffers=0, timeout=None) -> node  (pure-Python pickle._Unpickler)
    loads_c_raw(...), loads_py_raw(...)              (the same loads, unconverted: (result,
                                                      standins), or the error node)
    globals_c(data, buffers=0, extensions=(), timeout=None) -> (calls, error)
                                                     (find_class calls of the C unpickler)
    genops_json(data) -> list                        (pickletools.genops as JSON)
    to_json(obj, standins) -> node                   (object graph -> pickle JSON)
    doc_to_object(node) -> object                    (pickle JSON of builtins -> object)
    dumps_json(node) -> str                          (json.dumps that copes with 100k-deep nodes)
    run_on_big_stack(fn)                             (fn() with a deep stack, for scripts' main)
    reexec_with_fixed_hash_seed()                    (scripts: set order independent of the run)
    jsonl_shards(directory, stem) -> [path]          (NAME.jsonl, or its shards NAME-1.jsonl...)

Nothing is ever imported or executed by a load: find_class returns an inert stand-in class
per (module, name), persistent_load an inert Record.  See docs/sandbox.md.
"""

import builtins
import copyreg
import io
import json
import pickle
import pickletools
import sys
import warnings

try:
    import _pickle
except ImportError:  # PyPy 3.9: pickle.Unpickler is the pure-Python one, and so is "C" here
    _pickle = None

# The unpickler pickle.loads runs: the C one where the interpreter has it.
_LoadsUnpickler = pickle._Unpickler if _pickle is None else _pickle.Unpickler
# CPython's C unpickler is fed through _WholeInput (see there); any other unpickler, PyPy's
# _pickle included, reads a BytesIO as pickle.loads feeds it.
_WHOLE_INPUT = _pickle is not None and sys.implementation.name == "cpython"

__all__ = [
    "loads_c", "loads_py", "loads_c_raw", "loads_py_raw", "globals_c", "genops_json", "to_json",
    "doc_to_object", "dumps_json",
    "run_on_big_stack", "reexec_with_fixed_hash_seed", "jsonl_shards",
    "Record", "StandIns", "Timeout",
]


class Timeout(Exception):
    """Raised (from a SIGALRM handler) when one load runs out of time."""


# ---------------------------------------------------------------------------------------------
# Records (stand-in objects) and stand-in classes

class Record:
    """An inert stand-in object: everything done to it is recorded, nothing is executed.

    _brine_new is one of ("call", callee, args), ("newobj", cls, args, kwargs_pairs),
    ("persid", pid); _brine_ops is a list of ("build", state), ("append", item),
    ("setitem", key, value), ("add", item).  Hashes and compares by identity.
    """

    __slots__ = ("_brine_new", "_brine_ops", "__weakref__")

    def __init__(self, new):
        self._brine_new = new
        self._brine_ops = []

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise RuntimeError("brine sandbox bug: keyword arguments in a call")
        return Record(("call", self, list(args)))

    def __setstate__(self, state):
        self._brine_ops.append(("build", state))

    def extend(self, items):
        ops = self._brine_ops
        for item in items:
            ops.append(("append", item))

    def append(self, item):
        self._brine_ops.append(("append", item))

    def __setitem__(self, key, value):
        self._brine_ops.append(("setitem", key, value))

    def add(self, item):
        self._brine_ops.append(("add", item))

    def __repr__(self):
        return "<brine stand-in object>"


class _StandInMeta(type):
    """Metaclass of the stand-in classes: calling one records, setting attributes fails."""

    def __call__(cls, *args, **kwargs):
        if kwargs:
            raise RuntimeError("brine sandbox bug: keyword arguments in a call")
        return Record(("call", cls, list(args)))

    def __setattr__(cls, name, value):
        raise AttributeError("stand-in globals are read-only")

    def __delattr__(cls, name):
        raise AttributeError("stand-in globals are read-only")

    def __repr__(cls):
        return "<brine stand-in class>"


def _standin_new(cls, *args, **kwargs):
    return Record(("newobj", cls, list(args), list(kwargs.items())))


def _make_standin_class():
    # Name and qualname are fixed: the (module, name) pair lives in StandIns.names, because
    # pickled names may hold NULs or lone surrogates that a type name cannot.
    return _StandInMeta("StandIn", (), {
        "__new__": _standin_new,
        "__module__": "brine_sandbox",
        "__qualname__": "StandIn",
        "__slots__": (),
    })


# Stand-in classes of earlier loads, for later loads to reuse. Making a class costs more
# than the rest of find_class (7.5 us of 11.5 on this project's machine), and a class holds
# nothing of its own: which global it stands for is in its load's StandIns.names, so one
# load's result still reads right after the class serves another. A load takes distinct
# classes for distinct globals, and gives them back when the next load starts (by then the
# previous result has been converted: loads run one after another). At most _POOL_MAX are
# kept, so that a pickle naming 100,000 globals leaves no 100,000 classes behind.
_POOL = []
_POOL_MAX = 256
_LAST = [None]


class StandIns:
    """State of one load: the stand-in classes made so far and the supplied buffers."""

    def __init__(self, nbuffers=0):
        self.classes = {}   # (module, name) -> class
        self.names = {}     # class -> (module, name)
        self.buffers = [bytearray(b"") for _ in range(nbuffers)]

    def begin(self):
        """Marks the start of this load: the previous load's classes go back to the pool."""
        last = _LAST[0]
        if last is not None and last is not self:
            room = _POOL_MAX - len(_POOL)
            if room > 0:
                _POOL.extend(list(last.names)[:room])
        _LAST[0] = self

    def standin(self, module, name):
        key = (module, name)
        cls = self.classes.get(key)
        if cls is None:
            cls = _POOL.pop() if _POOL else _make_standin_class()
            self.classes[key] = cls
            self.names[cls] = key
        return cls

    # -- find_class under a faked import machinery --------------------------------------

    def find_class(self, default_find_class, module, name):
        """Run CPython's default find_class with imports faked, map its answer to a stand-in.

        default_find_class is the bound super().find_class of the C or Python Unpickler: it
        applies fix_imports, the protocol 4 dotted-path rules and their errors itself.
        """
        saved = {}          # modname -> previous sys.modules entry (or _MISSING)
        real_import = builtins.__import__

        def fake_import(modname, globals=None, locals=None, fromlist=(), level=0):
            if not isinstance(modname, str):
                raise TypeError("module name must be str, not %s" % type(modname).__name__)
            if level != 0:
                raise ImportError("brine sandbox: relative import")
            if modname == "":
                raise ValueError("Empty module name")
            if modname not in saved:
                saved[modname] = sys.modules.get(modname, _MISSING)
            fake = _FakeModule(modname)
            sys.modules[modname] = fake
            return fake

        builtins.__import__ = fake_import
        try:
            found = default_find_class(module, name)
        finally:
            builtins.__import__ = real_import
            for modname, old in saved.items():
                if old is _MISSING:
                    sys.modules.pop(modname, None)
                else:
                    sys.modules[modname] = old
        if type(found) is not _Path:
            raise RuntimeError("brine sandbox bug: find_class returned %r" % (type(found),))
        return self.standin(object.__getattribute__(found, "_m"),
                            object.__getattribute__(found, "_p"))


_MISSING = object()


class _FakeModule:
    """What sys.modules[modname] holds while find_class runs: every attribute is a _Path."""

    __slots__ = ("_m",)

    def __init__(self, modname):
        object.__setattr__(self, "_m", modname)

    def __getattribute__(self, attr):
        if type(attr) is not str:
            raise TypeError("attribute name must be string")
        return _Path(object.__getattribute__(self, "_m"), attr)

    def __repr__(self):
        return "<module %r>" % (object.__getattribute__(self, "_m"),)


class _Path:
    """modname + dotted attribute path, as reached by getattr from a _FakeModule."""

    __slots__ = ("_m", "_p")

    def __init__(self, modname, path):
        object.__setattr__(self, "_m", modname)
        object.__setattr__(self, "_p", path)

    def __getattribute__(self, attr):
        if type(attr) is not str:
            raise TypeError("attribute name must be string")
        return _Path(object.__getattribute__(self, "_m"),
                     object.__getattribute__(self, "_p") + "." + attr)

    def __repr__(self):
        return "<brine path %r>" % (object.__getattribute__(self, "_p"),)


# ---------------------------------------------------------------------------------------------
# The two unpicklers

class _CUnpickler(_LoadsUnpickler):
    def find_class(self, module, name):
        return self._brine.find_class(super().find_class, module, name)

    def persistent_load(self, pid):
        return Record(("persid", pid))


class _RecordingCUnpickler(_CUnpickler):
    """_CUnpickler that first notes every find_class call: (module, name) exactly as the C
    unpickler passes them (fix_imports renames inside the default find_class, later)."""

    def find_class(self, module, name):
        self._brine_calls.append((module, name))
        return _CUnpickler.find_class(self, module, name)


class _PyUnpickler(pickle._Unpickler):
    def find_class(self, module, name):
        return self._brine.find_class(super().find_class, module, name)

    def persistent_load(self, pid):
        return Record(("persid", pid))


class _WholeInput:
    """The input file of the C unpickler: hands over all the data at the first read.

    _pickle.Unpickler over a file buffers what read() returns; given everything at once it
    takes the same paths as pickle.loads(bytes) (string input).  Over io.BytesIO it would
    read argument by argument, and its file mode treats FRAME differently from loads (an
    argument crossing a frame end loses bytes; a FRAME inside a frame reads a bogus length).
    readinto() is reached only when data is missing: it fails as string input does, which
    also covers a zero-length BINBYTES at the very end of the input.
    """

    __slots__ = ("_data",)

    def __init__(self, data):
        self._data = data

    def read(self, n=-1):
        data = self._data
        self._data = b""
        return data

    def readline(self):
        return self.read()

    def readinto(self, buf):
        raise pickle.UnpicklingError("pickle data was truncated")


def _error_node(exc):
    try:
        message = str(exc)
    except BaseException as e2:  # str() of a KeyError holding a deep key, etc.
        message = "<str() failed: %s>" % type(e2).__name__
    # keep every JSON string valid UTF-8: a lone surrogate becomes the text \udXXX
    # ("replace" on the way back: PyPy 3.11's backslashreplace can leave invalid UTF-8.)
    message = message.encode("utf-8", "backslashreplace").decode("utf-8", "replace")
    return {"t": "error", "type": type(exc).__name__, "message": message}


def _check_registry(extensions):
    """[(module, name, code)...] -> {code: (module, name)}, checked as copyreg.add_extension
    checks (str names, 1 <= code <= 0x7fffffff, no code or pair registered twice)."""
    inverted = {}
    forward = {}
    for entry in extensions:
        module, name, code = entry
        if type(module) is not str or type(name) is not str or type(code) is not int:
            raise TypeError("extension entries are (str, str, int), not %r" % (entry,))
        if not 1 <= code <= 0x7fffffff:
            raise ValueError("extension code %r out of range" % (code,))
        key = (module, name)
        if inverted.get(code, key) != key or forward.get(key, code) != code:
            raise ValueError("extension %r registered twice" % (entry,))
        inverted[code] = key
        forward[key] = code
    return inverted, forward


def _load(cls, data, buffers, timeout, calls=None, extensions=None, raw=False):
    """One sandboxed load. With calls (a list), find_class calls are appended to it and
    the result is not converted (None on success). With extensions ([(module, name, code)]),
    copyreg's registry is exactly that during the load and put back afterwards. With raw,
    a successful load returns (result, standins) unconverted."""
    registry = None if extensions is None else _check_registry(extensions)
    standins = StandIns(buffers)
    standins.begin()
    kwargs = {}
    if buffers:
        kwargs["buffers"] = list(standins.buffers)
    saved_cache = dict(copyreg._extension_cache)
    saved_registry = None
    alarm = None
    if timeout:
        import signal
        alarm = signal

        def on_alarm(signum, frame):
            raise Timeout("load took longer than %s s" % timeout)

        old_handler = signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, timeout)
    result = error = None
    try:
        try:
            # EXT results are cached process-wide: start from an empty cache so every EXT
            # goes through the sandboxed find_class, and put the cache back afterwards.
            copyreg._extension_cache.clear()
            if registry is not None:
                # _pickle holds these very dicts: change them in place.
                saved_registry = (dict(copyreg._inverted_registry),
                                  dict(copyreg._extension_registry))
                copyreg._inverted_registry.clear()
                copyreg._inverted_registry.update(registry[0])
                copyreg._extension_registry.clear()
                copyreg._extension_registry.update(registry[1])
            f = _WholeInput(data) if _WHOLE_INPUT and issubclass(cls, _CUnpickler) else io.BytesIO(data)
            u = cls(f, **kwargs)
            u._brine = standins
            if calls is not None:
                u._brine_calls = calls
            # warnings (e.g. DeprecationWarning for "\q" in STRING) are ignored, as in a
            # default configuration, whatever filters the embedding process has
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = u.load()
            del u
        finally:
            if alarm is not None:
                alarm.setitimer(alarm.ITIMER_REAL, 0)
                alarm.signal(alarm.SIGALRM, old_handler)
            copyreg._extension_cache.clear()
            copyreg._extension_cache.update(saved_cache)
            if saved_registry is not None:
                copyreg._inverted_registry.clear()
                copyreg._inverted_registry.update(saved_registry[0])
                copyreg._extension_registry.clear()
                copyreg._extension_registry.update(saved_registry[1])
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        error = _error_node(exc)
        exc = None
    if error is not None:
        return error
    if calls is not None:
        return None
    if raw:
        return result, standins
    return to_json(result, standins)


def loads_c(data, buffers=0, timeout=None, extensions=None):
    """Unpickle with CPython's C unpickler in the sandbox; a pickle-JSON node or error node.
    extensions: None keeps the process's copyreg registry; a list [(module, name, code)] is
    the registry during this load, exactly (as globals_c)."""
    return _load(_CUnpickler, bytes(data), buffers, timeout, None,
                 None if extensions is None else list(extensions))


def loads_py(data, buffers=0, timeout=None, extensions=None):
    """Unpickle with the pure-Python pickle._Unpickler in the sandbox (extensions as
    loads_c)."""
    return _load(_PyUnpickler, bytes(data), buffers, timeout, None,
                 None if extensions is None else list(extensions))


def loads_c_raw(data, buffers=0, timeout=None, extensions=None):
    """loads_c without the conversion, for a caller that converts the object graph itself
    by to_json's rules (the Rust oracle): (result, standins) when the load succeeds, else
    the error node (a dict)."""
    return _load(_CUnpickler, bytes(data), buffers, timeout, None,
                 None if extensions is None else list(extensions), True)


def loads_py_raw(data, buffers=0, timeout=None, extensions=None):
    """loads_py without the conversion, as loads_c_raw."""
    return _load(_PyUnpickler, bytes(data), buffers, timeout, None,
                 None if extensions is None else list(extensions), True)


def globals_c(data, buffers=0, extensions=(), timeout=None):
    """Load with the C unpickler in the sandbox (as loads_c) and return (calls, error):
    calls is the list of (module, name) that find_class received, in order, including those
    before an error (a find_class that raises counts); error is None when the load
    succeeded, else the error node.  Names are as the pickle spells them: fix_imports renames
    inside the default find_class.  extensions is the copyreg extension registry during the
    load, [(module, name, code)...], exactly (empty by default, whatever the process has)."""
    calls = []
    error = _load(_RecordingCUnpickler, bytes(data), buffers, timeout, calls,
                  list(extensions))
    return calls, error


# ---------------------------------------------------------------------------------------------
# Conversion to pickle JSON

def _n(t, nid):
    return {"t": t} if nid is None else {"t": t, "id": nid}


def _str_node(s, nid=None):
    node = _n("str", nid)
    try:
        s.encode("utf-8")
    except UnicodeEncodeError:
        node["hex"] = s.encode("utf-8", "surrogatepass").hex()
        return node
    node["v"] = s
    return node


def _has_lone_surrogate(s):
    try:
        s.encode("utf-8")
        return False
    except UnicodeEncodeError:
        return True


def _global_node(module, name):
    node = {"t": "global"}
    if _has_lone_surrogate(module):
        node["module_hex"] = module.encode("utf-8", "surrogatepass").hex()
    else:
        node["module"] = module
    if _has_lone_surrogate(name):
        node["name_hex"] = name.encode("utf-8", "surrogatepass").hex()
    else:
        node["name"] = name
    return node


class _IntDigits:
    """Context manager: no limit on int <-> str digits while converting."""

    def __enter__(self):
        # Interpreters from before the limit (CPython 3.9.2, PyPy 3.9) have no limit to lift.
        self.old = getattr(sys, "get_int_max_str_digits", lambda: None)()
        if self.old is not None:
            sys.set_int_max_str_digits(0)

    def __exit__(self, *exc):
        if self.old is not None:
            sys.set_int_max_str_digits(self.old)
        return False


def _shareable(o):
    t = type(o)
    if t is str:
        return len(o) > 1 or (len(o) == 1 and ord(o) > 0xff)
    if t is bytes:
        return len(o) > 1
    if t is tuple:
        return len(o) > 0
    return t in (list, dict, set, frozenset, bytearray, memoryview, Record)


def _expand(o, standins, nid=None):
    """(node, slots) for o: slots are (child, target, key) in document order; the node for
    child goes to target[key]."""
    t = type(o)
    if o is None:
        return {"t": "none"}, ()
    if t is bool:
        return {"t": "bool", "v": o}, ()
    if t is int:
        return {"t": "int", "v": str(o)}, ()
    if t is float:
        return {"t": "float", "v": repr(o)}, ()
    if t is str:
        return _str_node(o, nid), ()
    if t is bytes:
        node = _n("bytes", nid)
        node["v"] = o.hex()
        return node, ()
    if t is tuple or t is list or t is set or t is frozenset:
        items = [None] * len(o)
        name = {tuple: "tuple", list: "list", set: "set", frozenset: "frozenset"}[t]
        node = _n(name, nid)
        node["items"] = items
        return node, [(x, items, i) for i, x in enumerate(o)]
    if t is dict:
        items = []
        slots = []
        for k, v in o.items():
            pair = [None, None]
            items.append(pair)
            slots.append((k, pair, 0))
            slots.append((v, pair, 1))
        node = _n("dict", nid)
        node["items"] = items
        return node, slots
    if t is bytearray:
        for i, b in enumerate(standins.buffers):
            if b is o:
                node = _n("buffer", nid)
                node["index"] = i
                node["readonly"] = False
                if len(o):
                    node["v"] = o.hex()
                return node, ()
        node = _n("bytearray", nid)
        node["v"] = o.hex()
        return node, ()
    if t is memoryview:
        base = o.obj
        for i, b in enumerate(standins.buffers):
            if b is base:
                node = _n("buffer", nid)
                node["index"] = i
                node["readonly"] = bool(o.readonly)
                if len(base):
                    node["v"] = bytes(base).hex()
                return node, ()
        # READONLY_BUFFER on an in-band bytearray; PyPy also makes a view of bytes, which
        # CPython returns as they are: the same node, so the difference shows as a value.
        if type(base) in (bytearray, bytes):
            node = _n("buffer", nid)
            node["readonly"] = bool(o.readonly)
            node["view"] = None
            return node, [(base, node, "view")]
        raise TypeError("brine to_json: memoryview over %s" % type(base).__name__)
    if t is Record:
        new = o._brine_new
        slots = []
        if new[0] == "call":
            args = [None] * len(new[2])
            newnode = {"call": None, "args": args}
            slots.append((new[1], newnode, "call"))
            slots.extend((x, args, i) for i, x in enumerate(new[2]))
        elif new[0] == "newobj":
            args = [None] * len(new[2])
            newnode = {"newobj": None, "args": args}
            slots.append((new[1], newnode, "newobj"))
            slots.extend((x, args, i) for i, x in enumerate(new[2]))
            if new[3]:
                kwargs = []
                newnode["kwargs"] = kwargs
                for k, v in new[3]:
                    pair = [None, None]
                    kwargs.append(pair)
                    slots.append((k, pair, 0))
                    slots.append((v, pair, 1))
        elif new[0] == "persid":
            newnode = {"persid": None}
            slots.append((new[1], newnode, "persid"))
        else:
            raise AssertionError(new[0])
        ops = []
        for op in o._brine_ops:
            if op[0] == "build":
                n = {"op": "build", "state": None}
                slots.append((op[1], n, "state"))
            elif op[0] == "append" or op[0] == "add":
                n = {"op": op[0], "item": None}
                slots.append((op[1], n, "item"))
            elif op[0] == "setitem":
                n = {"op": "setitem", "key": None, "value": None}
                slots.append((op[1], n, "key"))
                slots.append((op[2], n, "value"))
            else:
                raise AssertionError(op[0])
            ops.append(n)
        node = _n("object", nid)
        node["new"] = newnode
        node["ops"] = ops
        return node, slots
    if isinstance(o, _StandInMeta):
        key = standins.names.get(o) if standins is not None else None
        if key is None:
            raise TypeError("brine to_json: stand-in class of another load")
        return _global_node(*key), ()
    raise TypeError("brine to_json: unexpected %s" % t.__name__)


def to_json(obj, standins=None):
    """Convert an unpickled object graph to a pickle-JSON node. Iterative (no recursion)."""
    if standins is None:
        standins = StandIns(0)
    with _IntDigits():
        # Pass 1: how often is each shareable object reached (depth first, items in order)?
        counts = {}
        stack = [obj]
        while stack:
            o = stack.pop()
            if not _shareable(o):
                continue
            k = id(o)
            c = counts.get(k)
            if c is not None:
                counts[k] = c + 1
                continue
            counts[k] = 1
            _, slots = _expand(o, standins)
            stack.extend(s[0] for s in reversed(slots))
        # Pass 2: build the nodes in the same order; ids for objects reached twice or more.
        ids = {}
        holder = [None]
        stack = [(obj, holder, 0)]
        next_id = 1
        while stack:
            o, target, key = stack.pop()
            if _shareable(o):
                k = id(o)
                n = ids.get(k)
                if n is not None:
                    target[key] = {"t": "ref", "id": n}
                    continue
                if counts[k] > 1:
                    ids[k] = next_id
                    node, slots = _expand(o, standins, next_id)
                    next_id += 1
                else:
                    node, slots = _expand(o, standins)
            else:
                node, slots = _expand(o, standins)
            target[key] = node
            if slots:
                stack.extend(reversed(slots))
        return holder[0]


# ---------------------------------------------------------------------------------------------
# genops

def _atom(arg):
    if arg is None:
        return None
    t = type(arg)
    if t is bool:
        return {"t": "bool", "v": arg}
    if t is int:
        return {"t": "int", "v": str(arg)}
    if t is float:
        return {"t": "float", "v": repr(arg)}
    if t is str:
        return _str_node(arg)
    if t is bytes:
        return {"t": "bytes", "v": arg.hex()}
    if t is bytearray:
        return {"t": "bytearray", "v": arg.hex()}
    raise TypeError("brine genops_json: unexpected arg %s" % t.__name__)


def genops_json(data):
    """pickletools.genops as [{"op","arg","pos"}...], ending in an error entry if it raises."""
    out = []
    end = 0
    # genops parses INT/LONG text under CPython's default int_max_str_digits (4300), so the
    # limit is lifted only while a parsed int is converted to its decimal text.
    try:
        for opcode, arg, pos, end_pos in pickletools._genops(bytes(data), yield_end_pos=True):
            with _IntDigits():
                out.append({"op": opcode.name, "arg": _atom(arg), "pos": pos})
            end = end_pos
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:
        node = _error_node(exc)
        node["pos"] = end
        out.append(node)
    return out


# ---------------------------------------------------------------------------------------------
# Documents of builtin values -> objects (for the encoder tests)

def doc_to_object(node):
    """Build the CPython object a pickle-JSON document of builtin values describes.

    Honours "id"/"ref" sharing and cycles.  Built depth first in document order: lists, dicts
    and sets exist (and carry their id) before their items are built; tuples and frozensets
    once their items exist.  A ref to a tuple still being built is allowed where Python
    allows one, inside a list item or a dict value: it is patched when the tuple is done.
    """
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(max(old, 100000))
    try:
        with _IntDigits():
            b = _DocBuilder()
            obj = b.build(node)
            if type(obj) is _Pending or b.pending:
                raise ValueError("doc_to_object: unresolved refs")
            return obj
    finally:
        sys.setrecursionlimit(old)


class _Pending:
    __slots__ = ("id",)

    def __init__(self, i):
        self.id = i


class _DocBuilder:
    def __init__(self):
        self.by_id = {}
        self.in_progress = set()
        self.pending = {}    # id -> [(container, key)]

    def strict(self, n):
        o = self.build(n)
        if type(o) is _Pending:
            raise ValueError("doc_to_object: ref %r to an unfinished tuple/frozenset here "
                             "(only list items and dict values may be)" % o.id)
        return o

    def build(self, n):
        t = n["t"]
        if t == "ref":
            i = n["id"]
            if i in self.by_id:
                return self.by_id[i]
            if i in self.in_progress:
                return _Pending(i)
            raise ValueError("doc_to_object: ref %r before its definition" % i)
        nid = n.get("id")
        if t == "none":
            return None
        if t == "bool":
            return bool(n["v"])
        if t == "int":
            return int(n["v"])
        if t == "float":
            return float(n["v"])
        if t == "str":
            if "hex" in n:
                o = bytes.fromhex(n["hex"]).decode("utf-8", "surrogatepass")
            else:
                # a fresh object, so unshared equal strs stay distinct objects
                o = n["v"].encode("utf-8").decode("utf-8")
        elif t == "bytes":
            o = bytes.fromhex(n["v"])
        elif t == "bytearray":
            o = bytearray.fromhex(n["v"])
        elif t == "list":
            o = []
            if nid is not None:
                self.by_id[nid] = o
            for x in n["items"]:
                v = self.build(x)
                if type(v) is _Pending:
                    self.pending.setdefault(v.id, []).append((o, len(o)))
                o.append(v)
            return o
        elif t == "dict":
            o = {}
            if nid is not None:
                self.by_id[nid] = o
            for kn, vn in n["items"]:
                k = self.strict(kn)
                v = self.build(vn)
                if type(v) is _Pending:
                    self.pending.setdefault(v.id, []).append((o, k))
                o[k] = v
            return o
        elif t == "set":
            o = set()
            if nid is not None:
                self.by_id[nid] = o
            for x in n["items"]:
                o.add(self.strict(x))
            return o
        elif t in ("tuple", "frozenset"):
            if nid is not None:
                self.in_progress.add(nid)
            items = [self.strict(x) for x in n["items"]]
            o = tuple(items) if t == "tuple" else frozenset(items)
            if nid is not None:
                self.in_progress.discard(nid)
                for container, key in self.pending.pop(nid, ()):
                    container[key] = o
        else:
            raise ValueError("doc_to_object: node type %r is not a builtin value" % t)
        if nid is not None:
            self.by_id[nid] = o
        return o


# ---------------------------------------------------------------------------------------------
# JSON output

def dumps_json(node):
    """json.dumps(node) (compact, UTF-8 text), with an iterative writer for deep nodes.

    Every string in a node is valid Unicode without lone surrogates (str nodes with one use
    "hex"), so the text encodes to UTF-8."""
    try:
        return json.dumps(node, separators=(",", ":"), ensure_ascii=False)
    except RecursionError:
        return _dumps_iterative(node)


def _dumps_iterative(node):
    enc = json.encoder.encode_basestring
    out = []
    stack = [node]
    while stack:
        x = stack.pop()
        if type(x) is _Raw:
            out.append(x.s)
        elif type(x) is dict:
            out.append("{")
            parts = []
            first = True
            for k, v in x.items():
                parts.append(_Raw(("" if first else ",") + enc(k) + ":"))
                parts.append(v)
                first = False
            parts.append(_Raw("}"))
            stack.extend(reversed(parts))
        elif type(x) is list:
            out.append("[")
            parts = []
            for i, v in enumerate(x):
                if i:
                    parts.append(_Raw(","))
                parts.append(v)
            parts.append(_Raw("]"))
            stack.extend(reversed(parts))
        else:
            out.append(json.dumps(x, ensure_ascii=False))
    return "".join(out)


class _Raw:
    __slots__ = ("s",)

    def __init__(self, s):
        self.s = s


def run_on_big_stack(fn):
    """Run fn() on a thread with a 512 MiB stack and a recursion limit of 1,000,000, and wait
    for it: documents nest up to 100,000 deep, and json and the sandbox recurse on them."""
    import threading
    sys.setrecursionlimit(1_000_000)
    threading.stack_size(1 << 29)
    t = threading.Thread(target=fn)
    t.start()
    t.join()


def reexec_with_fixed_hash_seed():
    """Re-execute the running script with PYTHONHASHSEED=0 unless it already has it: the
    order in which CPython iterates a set of strs (and so a generated expectation's set
    items) depends on the hash seed."""
    import os
    if os.environ.get("PYTHONHASHSEED") != "0":
        env = dict(os.environ, PYTHONHASHSEED="0")
        os.execve(sys.executable, [sys.executable] + sys.argv, env)


def jsonl_shards(directory, stem):
    """The files a data set NAME is kept in: NAME.jsonl and its shards NAME-1.jsonl,
    NAME-2.jsonl... (gen_conformance.py splits a set into shards of at most 4 MiB), shards
    in numeric order."""
    import os
    import re
    pat = re.compile(re.escape(stem) + r"(?:-(\d+))?\.jsonl$")
    found = []
    for name in os.listdir(directory) if os.path.isdir(directory) else []:
        m = pat.fullmatch(name)
        if m:
            found.append((int(m.group(1) or 0), os.path.join(directory, name)))
    return [p for _, p in sorted(found)]
