"""torch._utils stub."""
from ._inert import InertFunction

# The rebuild functions: the allowlist files each as "torch._utils.<__name__>"
# (_tensor_rebuild_functions).
for _n in ["_rebuild_parameter", "_rebuild_parameter_with_state", "_rebuild_qtensor",
           "_rebuild_tensor", "_rebuild_tensor_v2", "_rebuild_tensor_v3",
           "_rebuild_sparse_tensor", "_rebuild_meta_tensor_no_storage",
           "_rebuild_wrapper_subclass", "_rebuild_device_tensor_from_numpy",
           "_rebuild_device_tensor_from_cpu_tensor"]:
    globals()[_n] = InertFunction("torch._utils", _n)
del _n


def _get_sparse_tensors_to_validate():
    """NEWOBJ/REDUCE of a sparse tensor class append the result here for later validation
    (no stubbed class is sparse): a throwaway list."""
    return []


# The renames GLOBAL applies to every name it reads (`_read_global_instruction`), whatever
# the protocol: PyTorch 2.15.0's own tables in torch/_utils.py (adapted there from CPython's
# _compat_pickle), copied verbatim.
IMPORT_MAPPING = {
    "__builtin__": "builtins",
    "copy_reg": "copyreg",
    "Queue": "queue",
    "repr": "reprlib",
    "_abcoll": "collections.abc",
    # Non-mutual mappings.
    "UserDict": "collections",
    "UserList": "collections",
    "UserString": "collections",
    "whichdb": "dbm",
    "StringIO": "io",
    "cStringIO": "io",
}

NAME_MAPPING = {
    ("__builtin__", "xrange"): ("builtins", "range"),
    ("__builtin__", "reduce"): ("functools", "reduce"),
    ("__builtin__", "intern"): ("sys", "intern"),
    ("__builtin__", "unichr"): ("builtins", "chr"),
    ("__builtin__", "unicode"): ("builtins", "str"),
    ("__builtin__", "long"): ("builtins", "int"),
    ("itertools", "izip"): ("builtins", "zip"),
    ("itertools", "imap"): ("builtins", "map"),
    ("itertools", "ifilter"): ("builtins", "filter"),
    ("itertools", "ifilterfalse"): ("itertools", "filterfalse"),
    ("itertools", "izip_longest"): ("itertools", "zip_longest"),
    ("UserDict", "IterableUserDict"): ("collections", "UserDict"),
    ("UserList", "UserList"): ("collections", "UserList"),
    ("UserString", "UserString"): ("collections", "UserString"),
    # Non-mutual mappings.
    ("__builtin__", "basestring"): ("builtins", "str"),
    ("exceptions", "StandardError"): ("builtins", "Exception"),
    ("UserDict", "UserDict"): ("collections", "UserDict"),
}
