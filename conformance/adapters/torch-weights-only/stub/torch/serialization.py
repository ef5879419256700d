"""torch.serialization stub."""
from ._inert import InertFunction, Named

# allowlisted as "torch.serialization._get_layout" (REDUCE of a layout name)
_get_layout = InertFunction("torch.serialization", "_get_layout")


def StorageType(name):
    """What the allowlist files each legacy storage class as: a named value."""
    return Named("torch", name)


def _maybe_decode_ascii(s):
    """BINPERSID checks that a tuple pid starts with "storage" (bytes or str)."""
    return s.decode("ascii") if isinstance(s, bytes) else s
