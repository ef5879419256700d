"""brine adapter for fickling (Trail of Bits' pickle decompiler and static analyser).

Accepts when `fickling.fickle.Pickled.load(data)` parses the stream (its default
fail_on_decode_error=True); prints no value: Pickled is a list of opcodes, not the object the
pickle builds. Pickled.load walks pickletools.genops to the first STOP and also checks that
every opcode's inline argument is complete.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402

from fickling.fickle import Pickled  # noqa: E402

if __name__ == "__main__":
    data = au.read_pickle()
    try:
        Pickled.load(data)
    except Exception as e:  # any exception the parser raises is its rejection
        au.reject(e)
    au.accept()
