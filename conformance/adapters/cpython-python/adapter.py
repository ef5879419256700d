"""brine adapter for CPython's pure-Python pickle (pickle._Unpickler / pickle._Pickler).

    adapter.py decode   pickle on stdin -> the node brine_sandbox.loads_py builds
    adapter.py encode   node on stdin -> pickle._dumps(doc_to_object(node), BRINE_PROTOCOL)

Both speak the persistent protocol too (BRINE_PERSISTENT=1: JSON lines, see
conformance/README.md); a case's extension registry is installed with copyreg.add_extension
for its load and removed afterwards.

The corpus classifies every case where the C and Python unpicklers disagree as i_, so this
adapter passes every y_ and n_ case; its i_ column shows where the two differ.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402


if __name__ == "__main__":
    import pickle
    au.cpython_adapter(au.sb.loads_py, pickle._dumps)
