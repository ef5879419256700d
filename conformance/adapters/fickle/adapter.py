"""brine adapter for fickle (a firewalled pure-Python unpickler: a subset of the pickle
machine whose every import and call goes through a Firewall of registered handlers).

    adapter.py decode   fickle.Unpickler(io.BytesIO(data), fickle.DefaultFirewall()).load()

A fresh DefaultFirewall per case (its handler registrations are per instance). The firewall
is the sandbox: the only globals it resolves are its own handlers' (builtins/__builtin__ set
and frozenset, __builtin__.object, builtins/__builtin__ complex, _codecs.encode with the
latin1 codec only, copy_reg._reconstructor, and collections.OrderedDict, which its handler
imports from the standard library); every other (module, name) is a FirewallError ("access
denied"), so nothing a pickle names is imported or run beyond those. Any exception from
load() is a rejection (exit 1, its class: fickle's UnpickleError / UnpickleTypeError /
FirewallError, or the IndexError, KeyError, NotImplementedError... its opcode methods raise;
INST, OBJ, PERSID, BINPERSID, NEXT_BUFFER, READONLY_BUFFER and EXT are not implemented).

Values: fickle builds real Python objects, written as pickle JSON. What its handlers return
for REDUCE is a real value: set/frozenset(iterable) and _codecs.encode(str, "latin1") give a
set, frozenset or bytes, compared with CPython's recorded call under the `builtins`
leniency. The rest is written as the call CPython's sandbox records: complex(a, b) as a call
of the global with [a, b], object() as a call with [], an OrderedDict as a call with [] plus
one setitem op per item it holds. A global returned as a value (GLOBAL of `builtins set`)
is written as that global. Global names are written as CPython's find_class would name them:
with fix_imports' renames (_compat_pickle) while the pickle's protocol is below 3 (fickle
itself maps nothing: its handler tables list both spellings). Sharing is fickle's own.
"""
import _compat_pickle
import collections
import io
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

import fickle  # noqa: E402

sb = au.sb


class Unpickler(fickle.Unpickler):
    """fickle's Unpickler, noting the protocol (PROTO) for CPython's fix_imports naming."""

    _brine_proto = 0

    def process_op_PROTO(self, arg):
        self._brine_proto = arg
        return super().process_op_PROTO(arg)


class Firewall(fickle.DefaultFirewall):
    """fickle's DefaultFirewall, noting what it returns: the (module, name) of every object
    import_object resolves, and the callable and arguments of every REDUCE result."""

    def import_object(self, module, name):
        obj = super().import_object(module, name)
        proto = self._brine_unpickler._brine_proto
        if proto < 3:  # CPython's find_class (fix_imports) names it so
            if (module, name) in _compat_pickle.NAME_MAPPING:
                module, name = _compat_pickle.NAME_MAPPING[(module, name)]
            elif module in _compat_pickle.IMPORT_MAPPING:
                module = _compat_pickle.IMPORT_MAPPING[module]
        self._brine_names.setdefault(id(obj), (obj, module, name))
        return obj

    def call(self, instance, method, *args, **kwargs):
        result = super().call(instance, method, *args, **kwargs)
        if method == "danger_call_unreduce":
            self._brine_calls[id(result)] = (result, instance, args[0])
        return result


def decode(case):
    fw = Firewall()
    fw._brine_names = {}
    fw._brine_calls = {}
    u = Unpickler(io.BytesIO(case.data), fw)
    fw._brine_unpickler = u
    try:
        result = u.load()
    except Exception as e:
        # messages name handler objects by address: dropped, so that answers are repeatable
        message = au.error_node(e)["message"]
        return au.reject(type(e).__name__, re.sub(r" at 0x[0-9a-fA-F]+", "", message))
    standins = sb.StandIns(0)

    def global_of(obj):
        named = fw._brine_names.get(id(obj))
        return None if named is None else standins.standin(named[1], named[2])

    def foreign(o):
        g = global_of(o)
        if g is not None:
            return g
        call = fw._brine_calls.get(id(o))
        if call is None:
            return None
        callee = global_of(call[1])
        if callee is None:
            return None
        if type(o) is complex or type(o) is object:
            return sb.Record(("call", callee, list(call[2])))
        if type(o) is collections.OrderedDict:
            r = sb.Record(("call", callee, list(call[2])))
            for k, v in o.items():
                r[k] = v  # recorded as a setitem op
            return r
        return None

    try:
        node = au.to_json_foreign(result, standins, foreign)
    except TypeError as e:  # a value pickle JSON cannot write: judged on accept only
        sys.stderr.write("fickle adapter: no node for the value: %s\n" % e)
        return au.accept()
    return au.accept(node)


if __name__ == "__main__":
    au.main(decode)
