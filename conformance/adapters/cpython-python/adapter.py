"""brine adapter for CPython's pure-Python pickle (pickle._Unpickler / pickle._Pickler).

    adapter.py decode   pickle on stdin -> the node brine_sandbox.loads_py builds
    adapter.py encode   node on stdin -> pickle._dumps(doc_to_object(node), BRINE_PROTOCOL)

The corpus classifies every case where the C and Python unpicklers disagree as i_, so this
adapter passes every y_ and n_ case; its i_ column shows where the two differ.
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
        data = pickle._dumps(obj, au.protocol())
    except Exception as e:  # e.g. an int past the 4300-digit limit at protocol 0
        au.refuse("CPython cannot pickle it: %s: %s" % (type(e).__name__, e))
    au.write_pickle(data)


if __name__ == "__main__":
    if sys.argv[1:] == ["encode"]:
        au.on_big_stack(encode)
    au.decoder(au.sb.loads_py(au.read_pickle(), au.buffers()))
