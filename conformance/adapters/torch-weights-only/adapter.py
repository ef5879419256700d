"""brine adapter for PyTorch's weights_only unpickler (torch/_weights_only_unpickler.py), the
restricted unpickler behind every `torch.load` (weights_only=True is the default since 2.6).

    adapter.py decode   Unpickler(io.BytesIO(data), encoding="utf-8").load()

The unpickler's file is PyTorch 2.15.0's own, extracted from the wheel by install.sh into
target/adapters/torch-weights-only/; it is loaded as `torch._weights_only_unpickler` on top of
the inert `torch` stub in stub/torch beside this file (PyTorch itself is not installed). The
encoding is torch.load's default for it ("utf-8": SHORT_BINSTRING decodes as UTF-8). The
unpickler is the sandbox: GLOBAL resolves only its allowlist (collections.OrderedDict and
Counter, _codecs.encode, builtins bytearray/set/complex, and torch names, which are the
stub's inert recorders), everything else is an UnpicklingError; REDUCE and NEWOBJ call only
allowlisted objects. So the real code runs only those builtins and collections classes,
which is what PyTorch runs too. Any exception from load() is a rejection (exit 1, its
class). It implements protocol 2's opcodes only: FRAME, SHORT_BINUNICODE, BINBYTES... are
"Unsupported operand" (so every protocol 4/5 pickle is rejected); warnings (PROTO other than
2) are silenced.

Values: what it builds, written as pickle JSON. Real builtins that REDUCE built (set, bytes
from _codecs.encode, bytearray) are values compared with CPython's recorded calls under the
`builtins` leniency. Stub objects are written as the call or newobj they recorded, with a
build op for each BUILD (set_ / __setstate__). An OrderedDict is written as the call CPython
records for REDUCE of collections.OrderedDict with no args, a setitem op per item and a build
op of its __dict__ when BUILD gave it one. Counter and complex results (whose construction,
REDUCE or NEWOBJ and its args, the object no longer tells) make the adapter print no value.
Globals pushed as values are written with the (module, name) the pickle spelled, as CPython
names it (fix_imports renames below protocol 3).
"""
import _compat_pickle
import collections
import importlib.util
import io
import os
import sys
import warnings

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
import adapter_util as au  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "stub"))
import torch  # noqa: E402  (the inert stub)
from torch import _inert  # noqa: E402

INSTALL = os.path.join(os.environ.get("BRINE_ADAPTERS_DIR")
                       or os.path.join(HERE, "..", "..", "..", "target", "adapters"),
                       "torch-weights-only")


def _load_unpickler():
    path = os.path.join(INSTALL, "_weights_only_unpickler.py")
    spec = importlib.util.spec_from_file_location("torch._weights_only_unpickler", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


wou = _load_unpickler()
sb = au.sb


class NoNode(Exception):
    pass


class Load:
    """One load: the unpickler, and the (module, name) the pickle spelled for each object
    GLOBAL pushed (noted by wrapping the module's _read_global_instruction)."""

    current = None

    def __init__(self, data):
        self.unpickler = wou.Unpickler(io.BytesIO(data), encoding="utf-8")
        self.names = {}  # id(obj) -> (obj, module, name)

    def note_global(self, raw, mapped):
        module, name = raw
        if self.unpickler.proto < 3:  # CPython's find_class (fix_imports) names it so
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        obj = wou._get_allowed_globals().get("%s.%s" % mapped)
        if obj is not None:
            self.names.setdefault(id(obj), (obj, module, name))


_real_read_global = wou._read_global_instruction


def _read_global_instruction(readline):
    """The module's own function, noting the names as read (before torch's renames)."""
    lines = []

    def noting_readline():
        line = readline()
        lines.append(line)
        return line

    mapped = _real_read_global(noting_readline)
    load = Load.current
    if load is not None and len(lines) == 2:
        try:
            raw = (lines[0][:-1].decode("utf-8"), lines[1][:-1].decode("utf-8"))
        except UnicodeDecodeError:
            raw = mapped
        load.note_global(raw, mapped)
    return mapped


wou._read_global_instruction = _read_global_instruction


def decode(case):
    load = Load(case.data)
    Load.current = load
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            result = load.unpickler.load()
    except Exception as e:
        return au.reject(e)
    finally:
        Load.current = None
    standins = sb.StandIns(0)

    def global_of(obj):
        named = load.names.get(id(obj))
        if named is not None:
            return standins.standin(named[1], named[2])
        if isinstance(obj, (_inert.InertMeta, _inert.InertFunction, _inert.Named)):
            return standins.standin(obj.__module__, getattr(obj, "__qualname__", obj.__name__))
        return None

    def foreign(o):
        g = global_of(o)
        if g is not None:
            return g
        if isinstance(o, _inert.Inert):
            how, callee, args = o._brine_new
            r = sb.Record((how, callee, args) if how == "call" else (how, callee, args, []))
            r._brine_ops = list(o._brine_ops)
            return r
        if type(o) is collections.OrderedDict:
            r = sb.Record(("call", standins.standin("collections", "OrderedDict"), []))
            for k, v in o.items():
                r[k] = v  # a setitem op
            if getattr(o, "__dict__", None):
                r.__setstate__(dict(o.__dict__))  # a build op
            return r
        raise NoNode("a %s: its construction is not known" % type(o).__name__)

    try:
        node = au.to_json_foreign(result, standins, foreign)
    except (NoNode, TypeError) as e:
        sys.stderr.write("torch-weights-only adapter: no node for the value: %s\n" % e)
        return au.accept()
    return au.accept(node)


if __name__ == "__main__":
    au.main(decode)
