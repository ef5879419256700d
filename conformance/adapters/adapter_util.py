"""Shared by brine's Python adapters: the adapter protocols of conformance/README.md.

A decoder adapter reads the pickle on stdin and either accepts it (exit 0, printing one pickle
JSON node, or nothing when the implementation's values cannot be written as one) or rejects
it (exit 1, printing an error node whose "type" is the exception class). An encoder adapter
reads one node on stdin and writes pickle bytes (exit 0) or refuses (exit 1).

With BRINE_PERSISTENT=1 the same adapter serves many cases in one process ("Persistent
adapters" in the README): JSON request lines on stdin, one JSON answer line per request on
stdout. An adapter writes each side once, as a function of one case, and hands it to `main`:

    decode(case) -> answer      case: a Case (data, buffers, extensions, report);
                                answer: accept(node) / reject(exc) / node_answer(node), a dict
                                {"exit": 0|1, "node"?: NODE, "globals"?: [...], "verdict"?: ...}
    encode(document, protocol) -> bytes, or raises Refused(message)

`main` runs them per case (stdin, exit status, stdout) or persistently (`serve`). The case
functions never exit the process and keep no state between calls: whatever a load changes
process-wide (the copyreg extension registry, the recursion limit) is put back afterwards.

Standard library only; the adapters import it by path, so `python -I` works.
"""
import contextlib
import copyreg
import json
import os
import sys
import traceback

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import brine_sandbox as sb  # noqa: E402  (standard library only, no side effects)

# The recursion limit a per-case decoder runs under (the interpreter's default: its main
# thread never raises it). The persistent loop runs on sb.run_on_big_stack's thread, whose
# limit is 1,000,000; each decode goes back to this one, so that whatever recurses (a repr in
# an error message, an analysis over a deep AST) fails or succeeds exactly as per case.
PER_CASE_RECURSION_LIMIT = sys.getrecursionlimit()


def persistent():
    """Whether the harness started this adapter in persistent mode (BRINE_PERSISTENT=1)."""
    return os.environ.get("BRINE_PERSISTENT") == "1"


# ---------------------------------------------------------------------------------------------
# One case

class Case:
    """One decoder case: the pickle bytes, the number of out-of-band buffers, the extension
    registry [[module, name, code], ...], and `report`: whether a scanner's globals and
    verdict will be reported (persistent mode only; per case there is nowhere to put them)."""

    __slots__ = ("name", "data", "buffers", "extensions", "report")

    def __init__(self, data, buffers=0, extensions=(), name=None, report=False):
        self.name = name
        self.data = data
        self.buffers = buffers
        self.extensions = list(extensions or ())
        self.report = report


class Refused(Exception):
    """Raised by an encoder for a document outside its implementation's model (exit 1)."""


def text(s):
    """s as valid Unicode for a JSON answer: a lone surrogate becomes the text \\udXXX (as in
    brine_sandbox's error messages); anything else that is not a str is str()ed."""
    if not isinstance(s, str):
        s = str(s)
    return s.encode("utf-8", "backslashreplace").decode("utf-8")


def error_node(kind, message=""):
    """The error node of an exception, or of a class name and message."""
    if isinstance(kind, BaseException):
        return sb._error_node(kind)
    return {"t": "error", "type": text(kind), "message": text(message)}


def accept(node=None):
    """Answer: accepted (exit 0), with the value's node when there is one."""
    return {"exit": 0} if node is None else {"exit": 0, "node": node}


def reject(kind, message=""):
    """Answer: rejected (exit 1) with an error node; `kind` is an exception or a class name."""
    return {"exit": 1, "node": error_node(kind, message)}


def node_answer(node):
    """Answer for a sandbox result node: an error node rejects, anything else accepts."""
    return {"exit": 1 if node.get("t") == "error" else 0, "node": node}


@contextlib.contextmanager
def extension_registry(entries):
    """copyreg.add_extension(module, name, code) for each entry for the duration of a load,
    copyreg.remove_extension afterwards (also on error); the EXT cache is emptied on both
    sides, so no case sees another's entries or cached results. An entry the registry already
    holds (a repeat) is not added again, so it is not removed twice. A registry copyreg
    refuses raises ValueError from here: the case cannot be set up (an adapter failure)."""
    added = []
    copyreg._extension_cache.clear()
    try:
        for module, name, code in entries or ():
            key = (module, name)
            if copyreg._extension_registry.get(key) == code and \
                    copyreg._inverted_registry.get(code) == key:
                continue
            copyreg.add_extension(module, name, code)
            added.append((module, name, code))
        yield
    finally:
        for module, name, code in reversed(added):
            copyreg.remove_extension(module, name, code)
        copyreg._extension_cache.clear()


@contextlib.contextmanager
def recursion_limit(limit):
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(limit)
    try:
        yield
    finally:
        sys.setrecursionlimit(old)


# ---------------------------------------------------------------------------------------------
# Per-case protocol (one process per case)

def read_pickle():
    """The case's pickle bytes (all of stdin)."""
    return sys.stdin.buffer.read()


def buffers():
    """How many out-of-band buffers the case supplies (BRINE_BUFFERS, 0 when unset)."""
    try:
        return int(os.environ.get("BRINE_BUFFERS") or 0)
    except ValueError:
        return 0


def extensions():
    """The case's extension registry (BRINE_EXTENSIONS JSON, empty when unset)."""
    raw = os.environ.get("BRINE_EXTENSIONS")
    return json.loads(raw) if raw else []


def protocol():
    """The protocol an encoder is asked for (BRINE_PROTOCOL, default 4)."""
    try:
        return int(os.environ.get("BRINE_PROTOCOL") or 4)
    except ValueError:
        return 4


def _write_line(stream, obj):
    stream.write((sb.dumps_json(obj) + "\n").encode("utf-8"))
    stream.flush()


def finish(answer):
    """Per case: print the answer's node (compact JSON, copes with 100k-deep nodes) and exit
    with its status."""
    if answer.get("node") is not None:
        _write_line(sys.stdout.buffer, answer["node"])
    sys.stdout.flush()
    os._exit(answer["exit"])


def refuse(message):
    """Per case: an encoder that cannot express the document: exit 1, reason on stderr."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    os._exit(1)


def write_pickle(data):
    """Per case: an encoder's answer: the bytes on stdout, exit 0."""
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    os._exit(0)


def read_document():
    """The encoder's input node. Documents nest up to 100,000 deep: json needs the recursion
    limit and a stack for it, so call this (and the encoder) through `on_big_stack`."""
    return json.loads(sys.stdin.buffer.read().decode("utf-8"))


def on_big_stack(fn):
    """Run fn() on a thread with a 512 MiB stack and a high recursion limit (os._exit ends
    the process from inside it)."""
    sb.run_on_big_stack(fn)
    os._exit(3)  # fn returned without answering: an adapter bug, a crash by the protocol


def decode_once(decode):
    """The per-case decoder: stdin, BRINE_BUFFERS and BRINE_EXTENSIONS -> exit status and
    stdout. Runs on the main thread under the interpreter's default limits. An exception
    escaping `decode` (an adapter bug, or an extension registry copyreg refuses) is a crash,
    exit 3, as in the persistent loop."""
    case = Case(read_pickle(), buffers(), extensions())
    try:
        answer = decode(case)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)
    finish(answer)


def encode_once(encode):
    """The per-case encoder (call on a big stack): a node on stdin, BRINE_PROTOCOL."""
    try:
        data = encode(read_document(), protocol())
    except Refused as e:
        refuse(str(e))
    write_pickle(data)


# ---------------------------------------------------------------------------------------------
# Persistent protocol (one process, JSON lines)

def _protocol_stdout():
    """A private handle on the real stdout for the answers; fd 1 and sys.stdout then go to
    stderr, so that nothing a library prints (fickling writes warnings to sys.stdout, C code
    may printf) can corrupt the answer stream."""
    sys.stdout.flush()
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return out


def serve(handle):
    """The persistent loop: for each request line, handle(request) -> answer dict; writes
    {"case": ..., **answer} as one line and flushes. Ends (exit 0) at end of input. A request
    that is not JSON, or an exception escaping `handle` (an adapter bug: the case functions
    turn every failure of their library into an answer), ends the process with status 3 after
    a traceback on stderr: the harness counts that case as a crash and starts a fresh
    process. Call on the big-stack thread (`main` does)."""
    out = _protocol_stdout()
    try:
        for line in sys.stdin.buffer:
            if not line.strip():
                continue
            request = json.loads(line)
            answer = {"case": request.get("case")}
            answer.update(handle(request))
            _write_line(out, answer)
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
        os._exit(3)
    out.flush()
    os._exit(0)


def _decode_request(decode, request):
    case = Case(bytes.fromhex(request["pickle"]), int(request.get("buffers") or 0),
                request.get("extensions") or (), name=request.get("case"), report=True)
    with recursion_limit(PER_CASE_RECURSION_LIMIT):
        return decode(case)


def _encode_request(encode, request):
    # the document is parsed (json.loads of the line) and encoded under run_on_big_stack's
    # limit, as the per-case encoder runs
    try:
        data = encode(request["document"], int(request.get("protocol", 4)))
    except Refused as e:
        return {"exit": 1, "message": text(e)}
    return {"exit": 0, "pickle": data.hex()}


def main(decode=None, encode=None):
    """An adapter's entry point: `adapter.py decode|encode`, per case or (BRINE_PERSISTENT=1)
    persistent. `decode(case)` and `encode(document, protocol)` are the case functions."""
    mode = "encode" if sys.argv[1:] == ["encode"] else "decode"
    if mode == "encode" and encode is None:
        sys.stderr.write("this adapter has no encoder\n")
        os._exit(2)
    if persistent():
        if mode == "encode":
            on_big_stack(lambda: serve(lambda r: _encode_request(encode, r)))
        on_big_stack(lambda: serve(lambda r: _decode_request(decode, r)))
    if mode == "encode":
        on_big_stack(lambda: encode_once(encode))
    decode_once(decode)


# ---------------------------------------------------------------------------------------------
# CPython's own pickle

def cpython_adapter(loads, dumps):
    """The whole of an adapter over one of CPython's own implementations: decode with
    `loads(data, buffers)` (a brine_sandbox loader) under the case's extension registry,
    encode the document's object with `dumps(obj, protocol)`. Documents of builtin values
    only: objects and globals have no CPython object without importing, so those are
    refused."""
    def decode(case):
        with extension_registry(case.extensions):
            node = loads(case.data, case.buffers)
        return node_answer(node)

    def encode(document, protocol):
        return cpython_encode(dumps, document, protocol, "CPython")

    main(decode, encode)


def cpython_encode(dumps, document, protocol, who):
    """dumps(doc_to_object(document), protocol), or Refused."""
    try:
        obj = sb.doc_to_object(document)
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        raise Refused("cannot build this document in CPython: %s" % e)
    try:
        return dumps(obj, protocol)
    except Exception as e:  # e.g. an int past the 4300-digit limit at protocol 0
        raise Refused("%s cannot pickle it: %s: %s" % (who, type(e).__name__, e))


# ---------------------------------------------------------------------------------------------
# Object graphs of other unpicklers (added for the fickle and torch-weights-only adapters)

def to_json_foreign(obj, standins, foreign):
    """brine_sandbox.to_json for a graph that also holds objects the sandbox does not know
    (another unpickler's own classes, globals it resolved itself). `foreign(o)` is asked about
    every object that is not a plain builtin value (None, bool, int, float, str, bytes,
    bytearray, tuple, list, dict, set, frozenset, memoryview) and returns its stand-in: a
    brine_sandbox.Record (its construction and ops, holding the original child objects), a
    stand-in class of `standins` (`standins.standin(module, name)`, written as a global), or
    None to leave the object as it is (to_json then raises TypeError for what it cannot
    write). Each object's stand-in is made once and kept for the whole conversion, so a
    shared object stays one node (with an id) and the graph's sharing is written as it is.
    While it runs, brine_sandbox's converter is extended in this process (single-threaded
    adapters only) and put back afterwards."""
    plain = (type(None), bool, int, float, str, bytes, bytearray, tuple, list, dict, set,
             frozenset, memoryview)
    made = {}      # id(o) -> stand-in (or o itself)
    keep = []      # the originals, so that their ids are not reused during the conversion
    expand, shareable = sb._expand, sb._shareable

    def standin_of(o):
        if type(o) in plain or type(o) is sb.Record or isinstance(o, sb._StandInMeta):
            return o
        k = id(o)
        s = made.get(k)
        if s is None:
            s = foreign(o)
            if s is None:
                s = o
            made[k] = s
            keep.append(o)
        return s

    def patched_shareable(o):
        return shareable(standin_of(o))

    def patched_expand(o, st, nid=None):
        return expand(standin_of(o), st, nid)

    sb._expand, sb._shareable = patched_expand, patched_shareable
    try:
        return sb.to_json(obj, standins)
    finally:
        sb._expand, sb._shareable = expand, shareable
