"""brine adapter for CPython's C unpickler/pickler (_pickle), sandboxed as the corpus was made.

    adapter.py decode   pickle on stdin -> the node brine_sandbox.loads_c builds
    adapter.py encode   node on stdin -> pickle.dumps(doc_to_object(node), BRINE_PROTOCOL)

Both speak the persistent protocol too (BRINE_PERSISTENT=1: JSON lines, see
conformance/README.md); a case's extension registry (BRINE_EXTENSIONS or the request's
"extensions") is installed with copyreg.add_extension for its load and removed afterwards.

The decoder is the reference itself: every y_ and n_ case passes by construction, which makes
it the check that the harness and the protocol work. The encoder handles documents of builtin
values only (objects and globals have no CPython object without importing): it refuses others.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402


if __name__ == "__main__":
    import pickle
    au.cpython_adapter(au.sb.loads_c, pickle.dumps)
