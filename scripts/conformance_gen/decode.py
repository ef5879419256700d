"""One decode case: the pickle through CPython's C and pure-Python unpicklers (in the sandbox
of scripts/brine_sandbox.py, under a timeout) and pickletools.genops, as one JSON line.
Runs in the worker processes of a fork pool, so everything here is module-level."""

import json
import sys

from . import SCRIPTS

LOAD_TIMEOUT = 10

_SB = None


def _sandbox():
    global _SB
    if _SB is None:
        sys.path.insert(0, SCRIPTS)
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


def run_decode(pool, tasks, stats_key, stats):
    """The JSON lines of `tasks` in order (on the pool when there is one); each case's
    (C kind, Python kind, same, limit) goes into stats[stats_key] for the report."""
    lines = []
    results = pool.imap(decode_case, tasks, chunksize=16) if pool else map(decode_case, tasks)
    for line, st in results:
        lines.append(line)
        stats.setdefault(stats_key, []).append(st)
    return lines
