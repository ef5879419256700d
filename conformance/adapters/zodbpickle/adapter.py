"""brine adapter for zodbpickle (ZODB's fork of Python 3.3's pickle, C accelerated).

    adapter.py decode   zodbpickle.pickle.Unpickler (the C one) under brine's sandbox
    adapter.py encode   zodbpickle.pickle.dumps(doc_to_object(node), min(BRINE_PROTOCOL, 3))

The decoder subclasses zodbpickle's Unpickler the way brine_sandbox subclasses CPython's:
find_class runs zodbpickle's own find_class under the sandbox's fake import machinery and
returns a stand-in (see find_class for the one difference from CPython's), persistent_load returns a stand-in record, and the result is written with
brine_sandbox.to_json. Input comes from io.BytesIO: on every corpus case without globals
zodbpickle's Unpickler over BytesIO fails exactly as `zodbpickle.pickle.loads(bytes)` does
(its 3.3 code has no frames), while the sandbox's whole-input file (made for 3.11's C code)
would turn its EOFErrors on truncated lines into UnpicklingErrors. zodbpickle predates protocol 5: it takes no
out-of-band buffers.

Both sides speak the persistent protocol too (BRINE_PERSISTENT=1, conformance/README.md). The
case's extension registry (BRINE_EXTENSIONS or the request's "extensions") is installed with
copyreg.add_extension for the load and removed afterwards: zodbpickle's C module holds
copyreg's own _extension_registry / _inverted_registry / _extension_cache dicts (taken at its
import, as 3.3's _pickle did), so it sees the entries, and its EXT goes through find_class
with the cache emptied before and after each load.
"""
import _compat_pickle
import io
import os
import sys
import warnings

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

import zodbpickle.pickle as zp  # noqa: E402

sb = au.sb


def _candidates(module, name):
    """Every module name zodbpickle's find_class may look up for (module, name): as given, or
    renamed by the _compat_pickle maps it applies for protocol < 3."""
    out = {module}
    renamed = _compat_pickle.NAME_MAPPING.get((module, name))
    if renamed:
        out.add(renamed[0])
    for m in list(out):
        if m in _compat_pickle.IMPORT_MAPPING:
            out.add(_compat_pickle.IMPORT_MAPPING[m])
    return [m for m in out if isinstance(m, str)]


class SandboxedUnpickler(zp.Unpickler):
    def find_class(self, module, name):
        # Unlike CPython 3.11, zodbpickle's C find_class (from 3.3) takes a module that is
        # already in sys.modules without importing it, which would bypass the sandbox's fake
        # import: hide the real modules it may look up while its find_class runs.
        hidden = {}
        try:
            for m in _candidates(module, name):
                if m in sys.modules:
                    hidden[m] = sys.modules.pop(m)
            return self._brine.find_class(super().find_class, module, name)
        finally:
            sys.modules.update(hidden)

    def persistent_load(self, pid):
        return sb.Record(("persid", pid))


def decode(case):
    standins = sb.StandIns(0)
    with au.extension_registry(case.extensions):  # empties copyreg._extension_cache too
        try:
            u = SandboxedUnpickler(io.BytesIO(case.data))
            u._brine = standins
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                result = u.load()
            del u
        except Exception as e:
            return au.reject(e)
    return au.node_answer(sb.to_json(result, standins))


def encode(document, protocol):
    return au.cpython_encode(lambda obj, proto: zp.dumps(obj, min(proto, zp.HIGHEST_PROTOCOL)),
                             document, protocol, "zodbpickle")


if __name__ == "__main__":
    au.main(decode, encode)
