"""Shared by brine's Python adapters: the adapter protocol of conformance/README.md.

A decoder adapter reads the pickle on stdin and either accepts it (exit 0, printing one pickle
JSON node, or nothing when the implementation's values cannot be written as one) or rejects
it (exit 1, printing an error node whose "type" is the exception class). An encoder adapter
reads one node on stdin and writes pickle bytes (exit 0) or refuses (exit 1).

Standard library only; the adapters import it by path, so `python -I` works.
"""
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "scripts"))

import brine_sandbox as sb  # noqa: E402  (standard library only, no side effects)


def read_pickle():
    """The case's pickle bytes (all of stdin)."""
    return sys.stdin.buffer.read()


def buffers():
    """How many out-of-band buffers the case supplies (BRINE_BUFFERS, 0 when unset)."""
    try:
        return int(os.environ.get("BRINE_BUFFERS") or 0)
    except ValueError:
        return 0


def protocol():
    """The protocol an encoder is asked for (BRINE_PROTOCOL, default 4)."""
    try:
        return int(os.environ.get("BRINE_PROTOCOL") or 4)
    except ValueError:
        return 4


def _write(text):
    sys.stdout.write(text)
    sys.stdout.flush()


def accept(node=None):
    """Exit 0; with a node, print it (compact JSON, copes with 100k-deep nodes)."""
    if node is not None:
        _write(sb.dumps_json(node) + "\n")
    sys.stdout.flush()
    os._exit(0)


def reject(kind, message=""):
    """Exit 1 with an error node; `kind` is an exception or a class name."""
    if isinstance(kind, BaseException):
        node = sb._error_node(kind)
    else:
        node = {"t": "error", "type": str(kind), "message": str(message)}
    _write(sb.dumps_json(node) + "\n")
    os._exit(1)


def refuse(message):
    """An encoder that cannot express the document: exit 1, reason on stderr."""
    sys.stderr.write(message + "\n")
    sys.stderr.flush()
    os._exit(1)


def decoder(node):
    """Report a sandbox result node: an error node rejects, anything else accepts."""
    if node.get("t") == "error":
        _write(sb.dumps_json(node) + "\n")
        os._exit(1)
    accept(node)


def write_pickle(data):
    """An encoder's answer: the bytes on stdout, exit 0."""
    sys.stdout.buffer.write(data)
    sys.stdout.flush()
    os._exit(0)


def read_document():
    """The encoder's input node. Documents nest up to 100,000 deep: json needs the recursion
    limit and a stack for it, so call this (and the encoder) through `on_big_stack`."""
    import json
    return json.loads(sys.stdin.buffer.read().decode("utf-8"))


def on_big_stack(fn):
    """Run fn() on a thread with a 512 MiB stack and a high recursion limit (os._exit ends
    the process from inside it)."""
    sb.run_on_big_stack(fn)
    os._exit(3)  # fn returned without answering: an adapter bug, a crash by the protocol


def cpython_adapter(loads, dumps):
    """The whole of an adapter over one of CPython's own implementations: decode with
    `loads(data, buffers)` (a brine_sandbox loader), encode the document's object with
    `dumps(obj, protocol)`. Documents of builtin values only: objects and globals have no
    CPython object without importing, so those are refused."""
    if sys.argv[1:] == ["encode"]:
        on_big_stack(lambda: _cpython_encode(dumps))
    decoder(loads(read_pickle(), buffers()))


def _cpython_encode(dumps):
    try:
        obj = sb.doc_to_object(read_document())
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        refuse("cannot build this document in CPython: %s" % e)
    try:
        data = dumps(obj, protocol())
    except Exception as e:  # e.g. an int past the 4300-digit limit at protocol 0
        refuse("CPython cannot pickle it: %s: %s" % (type(e).__name__, e))
    write_pickle(data)
