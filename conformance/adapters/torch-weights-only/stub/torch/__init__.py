"""An inert stand-in for the few parts of PyTorch that torch/_weights_only_unpickler.py
(PyTorch 2.15.0, extracted from its wheel at install time) looks up, so that the real
unpickler runs without PyTorch. Every name here is listed with the reason the unpickler
reaches it; each is an inert recorder (torch/_inert.py), nothing computes or imports.
Only the CPU dense tensor classes, common dtypes and legacy storage types are stubbed: the
others (cuda, sparse, quantized tensor classes; float8 and bits dtypes) are then simply not
in the allowlist, and loading them fails as for any unlisted global."""
from ._inert import Named, inert_class

# `import torch._utils, torch._tensor, torch._C, torch.nn, torch.serialization,
# torch.storage`: the unpickler reaches all of them as attributes of `torch`.
from . import _C, _tensor, _utils, nn, serialization, storage  # noqa: F401,E402

# torch.Size, torch.Tensor, torch.device: allowlisted globals ("torch.Size", "torch.Tensor",
# "torch.device"); Tensor is also what BUILD checks for (`type(inst) is torch.Tensor` ->
# inst.set_(*state)).
Size = inert_class("torch", "Size")
Tensor = inert_class("torch", "Tensor")
device = inert_class("torch", "device")

# Dtypes: `_get_allowed_globals` files `str(t)` for every key of
# storage._dtype_to_storage_type_map(), every storage._new_dtypes() and
# getattr(torch, "uint1".."uint7") / getattr(torch, "int1".."int7").
_DTYPES = ["float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8",
           "uint8", "bool", "complex64", "complex128"]
_SUB_BYTE = ["uint%d" % i for i in range(1, 8)] + ["int%d" % i for i in range(1, 8)]
for _n in _DTYPES + _SUB_BYTE:
    globals()[_n] = Named("torch", _n)

# Quantization schemes: filed by str() in the allowlist.
for _n in ["per_tensor_affine", "per_tensor_symmetric", "per_channel_affine",
           "per_channel_symmetric", "per_channel_affine_float_qparams"]:
    globals()[_n] = Named("torch", _n)

# torch._tensor_classes: the allowlist files "module.Name" of each tensor class; NEWOBJ,
# REDUCE and BUILD check membership (and "sparse" in its module).
_TENSOR_NAMES = ["DoubleTensor", "FloatTensor", "HalfTensor", "BFloat16Tensor", "LongTensor",
                 "IntTensor", "ShortTensor", "CharTensor", "ByteTensor", "BoolTensor"]
_tensor_classes = set()
for _n in _TENSOR_NAMES:
    globals()[_n] = inert_class("torch", _n)
    _tensor_classes.add(globals()[_n])

# torch._storage_classes: TypedStorage and UntypedStorage are filed as themselves, every
# other (legacy) storage class as serialization.StorageType(its name).
_STORAGE_NAMES = ["DoubleStorage", "FloatStorage", "HalfStorage", "BFloat16Storage",
                  "LongStorage", "IntStorage", "ShortStorage", "CharStorage", "ByteStorage",
                  "BoolStorage"]
UntypedStorage = storage.UntypedStorage
_storage_classes = {storage.TypedStorage, storage.UntypedStorage}
for _n in _STORAGE_NAMES:
    globals()[_n] = inert_class("torch", _n)
    _storage_classes.add(globals()[_n])
del _n
