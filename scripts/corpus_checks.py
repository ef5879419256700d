"""Checks gen_corpus.py makes of each case, live, in brine's sandbox (nothing is imported):

    failing_opcode(data, buffers, extensions) -> {"op", "pos"} or None
        the opcode CPython's pure-Python unpickler was executing when it raised, with its
        byte position in the stream (frames accounted for), checked against genops;
    global_dependence(data, buffers, extensions, limit) -> None or (classes, hooks)
        whether the case's y_/n_ class changes when the stand-in globals accept, or reject,
        every mutation applied to a bare global (docs/sandbox.md, "Sandbox-dependent cases").

Used by scripts/gen_corpus.py; standard library and brine_sandbox only.
"""
import pickle
import pickletools

import brine_sandbox as sb

LIMIT_TYPES = {"MemoryError", "RecursionError", "Timeout"}


# ---------------------------------------------------------------------------------------------
# The failing opcode

class _TracingPyUnpickler(sb._PyUnpickler):
    """The sandbox's pure-Python unpickler, noting (opcode byte, stream position) on entry to
    each opcode's handler and clearing it when the handler returns: after an exception the
    note names the opcode that raised (None: the load loop itself ran out of input)."""

    _brine_trace = None  # a one-item list, set per load

    def _pos_of_opcode(self):
        uf = self._unframer
        f = uf.file_read.__self__
        if uf.current_frame is not None:
            frame = uf.current_frame
            return f.tell() - len(frame.getbuffer()) + frame.tell() - 1
        return f.tell() - 1


def _wrap(code, handler):
    def traced(self):
        self._brine_trace[0] = (code, self._pos_of_opcode())
        handler(self)
        self._brine_trace[0] = None
    return traced


_TracingPyUnpickler.dispatch = {k: _wrap(k, f) for k, f in pickle._Unpickler.dispatch.items()}


def failing_opcode(data, buffers=0, extensions=None):
    """{"op": NAME, "pos": N} for the opcode the pure-Python unpickler raised in, when
    genops agrees that opcode NAME starts at byte N (or genops itself stops at N); None when
    the load succeeds, fails outside any opcode (no more input) or genops disagrees."""
    trace = [None]
    _TracingPyUnpickler._brine_trace = trace
    try:
        node = sb._load(_TracingPyUnpickler, bytes(data), buffers, None, None,
                        None if extensions is None else list(extensions))
    finally:
        _TracingPyUnpickler._brine_trace = None
    if node.get("t") != "error" or trace[0] is None:
        return None
    code, pos = trace[0]
    op = pickletools.code2op.get(chr(code))
    if op is None:
        return None
    at = []
    try:
        for o, _, p in pickletools.genops(data):
            if p == pos:
                at.append(o.name)
            if p >= pos:
                break
    except Exception:
        pass
    if at == [op.name] or (not at and pos < len(data) and data[pos] == code):
        return {"op": op.name, "pos": pos}
    return None


# ---------------------------------------------------------------------------------------------
# Dependence on the model of a global

_HITS = []


class _AcceptingMeta(sb._StandInMeta):
    """A global that accepts every mutation (records which, in _HITS): what a real global with
    a permissive __setstate__, append, extend, add, __setitem__ and writable attributes does."""

    def __setattr__(cls, name, value):
        _HITS.append("setattr")

    def __setitem__(cls, key, value):
        _HITS.append("setitem")

    def __setstate__(cls, state):
        slot = type(state) is tuple and len(state) == 2 and state[1] is not None
        _HITS.append("build-slots" if slot else "build")

    def append(cls, item):
        _HITS.append("append")

    def extend(cls, items):
        _HITS.append("append")

    def add(cls, item):
        _HITS.append("add")


class _RejectingMeta(sb._StandInMeta):
    """A global that rejects every mutation: what a class whose __setstate__ is an instance
    method (called on the class: TypeError), without append/add/__setitem__, does."""

    def __setattr__(cls, name, value):
        raise AttributeError("rejecting global")

    def __setitem__(cls, key, value):
        raise TypeError("rejecting global")

    def __setstate__(cls, state):
        raise TypeError("rejecting global")

    def append(cls, item):
        raise TypeError("rejecting global")

    def extend(cls, items):
        raise TypeError("rejecting global")

    def add(cls, item):
        raise TypeError("rejecting global")


def _maker(meta):
    def make():
        return meta("StandIn", (), {
            "__new__": sb._standin_new,
            "__module__": "brine_sandbox",
            "__qualname__": "StandIn",
            "__slots__": (),
        })
    return make


def _classify(c, py, limit):
    if limit or c.get("type") in LIMIT_TYPES or py.get("type") in LIMIT_TYPES:
        return "i"
    if c.get("t") == "error" or py.get("t") == "error":
        if c.get("t") == "error" and py.get("t") == "error" and c.get("type") == py.get("type"):
            return "n"
        return "i"
    return "y"


def _variant(meta, data, buffers, extensions):
    real = sb._make_standin_class
    sb._make_standin_class = _maker(meta)
    try:
        ext = None if extensions is None else list(extensions)
        return sb.loads_c(data, buffers, extensions=ext), sb.loads_py(data, buffers, extensions=ext)
    finally:
        sb._make_standin_class = real


GLOBAL_OPS = {"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "EXT1", "EXT2", "EXT4"}


def global_dependence(data, cls, buffers=0, extensions=None):
    """None when the case's class (cls, y or n, as the sandbox gives it) is the same with
    globals that accept every mutation and with globals that reject every mutation; else
    ({"accepting": class, "rejecting": class}, sorted mutation kinds that reached a global).
    Only the y/n/i letter is compared: values differ anyway (a mutated global is still a
    global node)."""
    try:
        names = {o.name for o, _, _ in pickletools.genops(data)}
    except Exception:
        names = set()
        for b in set(data):
            op = pickletools.code2op.get(chr(b))
            if op is not None:
                names.add(op.name)
    if not names & GLOBAL_OPS:
        return None
    del _HITS[:]
    acc = _classify(*_variant(_AcceptingMeta, data, buffers, extensions), False)
    hits = sorted(set(_HITS))
    rej = _classify(*_variant(_RejectingMeta, data, buffers, extensions), False)
    if acc == cls and rej == cls:
        return None
    return {"accepting": acc, "rejecting": rej}, hits
