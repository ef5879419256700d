"""torch.storage stub."""
from ._inert import inert_class

# TypedStorage and UntypedStorage: members of torch._storage_classes, allowlisted as
# themselves ("torch.storage.TypedStorage", "torch.UntypedStorage").
TypedStorage = inert_class("torch.storage", "TypedStorage")
UntypedStorage = inert_class("torch", "UntypedStorage")


def _dtype_to_storage_type_map():
    """The allowlist files str(dtype) of every key: the stubbed dtypes."""
    import torch
    return {getattr(torch, n): None for n in torch._DTYPES}


def _new_dtypes():
    """The allowlist files str(dtype) of each: the real set (uint16/32/64, float8, bits
    types) is not stubbed."""
    return set()
