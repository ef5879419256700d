"""torch._C stub."""


def _is_pybind11_type(cls):
    """NEWOBJ asks whether the class is a pybind11 type (its object is then made at BUILD):
    no stubbed class is."""
    return False
