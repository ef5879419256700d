"""torch._tensor stub."""
from ._inert import InertFunction

# allowlisted as "torch._tensor._rebuild_from_type_v2" (tensor subclasses)
_rebuild_from_type_v2 = InertFunction("torch._tensor", "_rebuild_from_type_v2")
