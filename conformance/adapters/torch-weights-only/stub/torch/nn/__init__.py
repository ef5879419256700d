"""torch.nn stub: only Parameter."""
from .._inert import inert_class

# torch.nn.Parameter: allowlisted as "torch.nn.parameter.Parameter"; NEWOBJ of it calls
# Parameter(*args), BUILD on one calls its __setstate__.
Parameter = inert_class("torch.nn.parameter", "Parameter")
