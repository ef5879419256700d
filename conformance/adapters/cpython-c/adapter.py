"""brine adapter for CPython's C unpickler/pickler (_pickle), sandboxed as the corpus was made.

    adapter.py decode   pickle on stdin -> the node brine_sandbox.loads_c builds
    adapter.py encode   node on stdin -> pickle.dumps(doc_to_object(node), BRINE_PROTOCOL)

The decoder is the reference itself: every y_ and n_ case passes by construction, which makes
it the check that the harness and the protocol work. The encoder handles documents of builtin
values only (objects and globals have no CPython object without importing): it refuses others.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402


def encode():
    import pickle
    try:
        obj = au.sb.doc_to_object(au.read_document())
    except (ValueError, KeyError, TypeError, RecursionError) as e:
        au.refuse("cannot build this document in CPython: %s" % e)
    try:
        data = pickle.dumps(obj, au.protocol())
    except Exception as e:  # e.g. an int past the 4300-digit limit at protocol 0
        au.refuse("CPython cannot pickle it: %s: %s" % (type(e).__name__, e))
    au.write_pickle(data)


if __name__ == "__main__":
    if sys.argv[1:] == ["encode"]:
        au.on_big_stack(encode)
    au.decoder(au.sb.loads_c(au.read_pickle(), au.buffers()))
