"""Writes crates/brine-codec/tests/data/globals.jsonl: pickles with the find_class calls
CPython 3.11's C unpickler makes loading them, for the codec's `globals` tests.

Run: /usr/bin/python3.11 scripts/gen_globals_cases.py [--out PATH]

Each line after the header: {"name", "pickle" (hex), "buffers" (when not 0), "extensions"
([[module, name, code]...], when not empty), "calls" ([[module, name]...]; a name holding a
lone surrogate is {"hex": surrogatepass UTF-8 hex}), "error" (the exception class, or null),
"c" (what loads_c makes of it under the same registry: the codec's result is checked too)}.

The calls come from brine_sandbox.globals_c (the C unpickler with find_class overridden to
record, then run CPython's default find_class under faked imports).  Each case is also
loaded by a bare recorder, a _pickle.Unpickler whose find_class records and returns a dummy
class; the two lists must agree up to the first find_class that the sandbox made raise (the
dummy never raises), which shows the sandbox adds or drops no call.
"""

import argparse
import copyreg
import io
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import _pickle  # noqa: E402
import brine_sandbox as sb  # noqa: E402
from opcode_layout import op  # noqa: E402

OUT = os.path.join(HERE, "..", "crates", "brine-codec", "tests", "data", "globals.jsonl")


def U(s):
    """SHORT_BINUNICODE of a str (surrogates allowed)."""
    return op("SHORT_BINUNICODE", s)


# (name, pickle, extensions [(module, name, code)], buffers)
CASES = [
    # fix_imports renames inside find_class: the call has the Python 2 names
    ("global-p2-fix-imports", b"\x80\x02c__builtin__\nset\n.", [], 0),
    ("global-p0-fix-imports", b"c__builtin__\nset\n.", [], 0),
    ("global-p0-name-mapping", b"cUserDict\nUserDict\n.", [], 0),
    ("global-p3-no-renaming", b"\x80\x03c__builtin__\nset\n.", [], 0),
    ("global-twice", b"\x80\x02cos\nsystem\ncos\nsystem\n\x86.", [], 0),
    # STACK_GLOBAL, operands straight and through the memo
    ("stack-global", b"\x80\x04" + U("os") + U("system") + b"\x93.", [], 0),
    ("stack-global-binget",
     b"\x80\x04" + U("a") + b"\x94" + U("bb") + b"\x94" + b"0" + b"0" + b"h\x00h\x01\x93.", [], 0),
    ("stack-global-p2-memo", b"\x80\x02X\x0b\x00\x00\x00__builtin__q\x00X\x03\x00\x00\x00setq\x01"
     b"h\x00h\x01\x93.", [], 0),
    ("stack-global-not-str", b"\x80\x04K\x01" + U("a") + b"\x93.", [], 0),
    ("stack-global-underflow", b"\x80\x04" + U("a") + b"\x93.", [], 0),
    ("stack-global-empty-module", b"\x80\x04" + U("") + U("a") + b"\x93.", [], 0),
    ("stack-global-locals", b"\x80\x04" + U("m") + U("f.<locals>.g") + b"\x93" + U("x") + U("y")
     + b"\x93.", [], 0),
    ("stack-global-lone-surrogate", b"\x80\x04" + U("m\ud800") + U("n\udfff") + b"\x93.", [], 0),
    # INST and OBJ (OBJ takes its class from the stack: no call of its own)
    ("inst", b"(i__builtin__\nobject\n.", [], 0),
    ("inst-args", b"(K\x01K\x02icopy_reg\n_reconstructor\n.", [], 0),
    ("inst-no-mark", b"i__builtin__\nobject\n.", [], 0),
    ("inst-not-ascii", b"(ifoo\xc3\xa9\nbar\n.", [], 0),
    ("obj", b"(c__builtin__\nobject\no.", [], 0),
    ("obj-args", b"(ccopy_reg\n_reconstructor\nK\x01o.", [], 0),
    ("obj-stack-global", b"\x80\x04(" + U("m") + U("C") + b"\x93K\x01o.", [], 0),
    # EXT: the registered pair, once per code per load
    ("ext1", b"\x80\x02\x82\x01.", [("mod", "n1", 1)], 0),
    ("ext1-twice-and-another-code", b"\x80\x02\x82\x01\x82\x01\x82\x02\x87.",
     [("mod", "n1", 1), ("mod", "n2", 2)], 0),
    ("ext1-cached-across-proto", b"\x80\x02\x82\x01\x80\x03\x82\x01\x86.",
     [("__builtin__", "set", 1)], 0),
    ("ext2-ext4", b"\x80\x02\x83\x01\x02\x84\x04\x03\x02\x01\x86.",
     [("a", "b", 0x201), ("c", "d", 0x01020304)], 0),
    ("ext-unregistered", b"\x80\x02cfirst\none\n\x82\x07.", [("mod", "n1", 1)], 0),
    ("ext-code-0", b"\x80\x02\x82\x00.", [], 0),
    ("ext-empty-module", b"\x80\x02\x82\x05.", [("", "x", 5)], 0),
    # errors: the calls before them stay
    ("global-then-error", b"cfoo\nbar\n\x00.", [], 0),
    ("global-then-underflow", b"\x80\x02cfoo\nbar\n0\x85.", [], 0),
    ("global-then-truncated", b"cfoo\nbar\ncbaz\n", [], 0),
    ("global-not-utf8-module", b"c\xff\nbar\n.", [], 0),
    ("global-not-utf8-name", b"cfoo\n\xff\n.", [], 0),
    ("global-empty-line", b"c\nbar\n.", [], 0),
    ("global-then-reduce-error", b"cfoo\nbar\nK\x01R.", [], 0),
    ("global-then-build-error", b"cfoo\nbar\n}S'a'\nK\x01sbcnever\nseen\n.", [], 0),
    # STOP ends the load: what follows is never read
    ("two-then-stop-then-one", b"cfoo\nbar\ncbaz\nqux\n.cafter\nstop\n.", [], 0),
    # out-of-band buffers do not change the calls
    ("next-buffer-then-global", b"\x80\x05\x97cfoo\nbar\n\x86.", [], 1),
    ("next-buffer-missing", b"\x80\x05cfoo\nbar\n\x97\x86.", [], 0),
]


def name_json(s):
    try:
        s.encode("utf-8")
        return s
    except UnicodeEncodeError:
        return {"hex": s.encode("utf-8", "surrogatepass").hex()}


class _Bare(_pickle.Unpickler):
    def find_class(self, module, name):
        self.calls.append((module, name))
        return type("Dummy", (), {})

    def persistent_load(self, pid):
        return pid


def bare_calls(data, extensions, buffers):
    saved = dict(copyreg._inverted_registry)
    copyreg._inverted_registry.clear()
    copyreg._inverted_registry.update({code: (m, n) for m, n, code in extensions})
    copyreg._extension_cache.clear()
    try:
        kwargs = {"buffers": [bytearray() for _ in range(buffers)]} if buffers else {}
        u = _Bare(io.BytesIO(data), **kwargs)
        u.calls = []
        try:
            u.load()
        except Exception:
            pass
        return u.calls
    finally:
        copyreg._inverted_registry.clear()
        copyreg._inverted_registry.update(saved)
        copyreg._extension_cache.clear()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=OUT)
    args = ap.parse_args()
    lines = [json.dumps({"header": True, "python": sys.version,
                         "generator": "scripts/gen_globals_cases.py"})]
    for name, data, extensions, buffers in CASES:
        calls, error = sb.globals_c(data, buffers, extensions)
        bare = bare_calls(data, extensions, buffers)
        # The bare recorder's find_class never raises: it may go on past a call the
        # sandbox's default find_class rejected, never stop earlier or differ before.
        if error is not None and calls and bare[:len(calls)] == calls:
            pass
        elif bare != calls:
            raise SystemExit("%s: sandbox %r vs bare recorder %r" % (name, calls, bare))
        case = {"name": name, "pickle": data.hex()}
        if buffers:
            case["buffers"] = buffers
        if extensions:
            case["extensions"] = [list(e) for e in extensions]
        case["calls"] = [[name_json(m), name_json(n)] for m, n in calls]
        case["error"] = None if error is None else error["type"]
        case["c"] = sb._load(sb._CUnpickler, data, buffers, None, None, extensions)
        if (case["c"].get("type") if case["c"].get("t") == "error" else None) != case["error"]:
            raise SystemExit("%s: globals_c and loads_c disagree: %r" % (name, case["c"]))
        lines.append(json.dumps(case, ensure_ascii=False))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
    print("wrote %d cases to %s" % (len(CASES), os.path.relpath(args.out)))


if __name__ == "__main__":
    main()
