"""brine adapter for pickletools.genops (CPython 3.11's disassembler).

Accepts when genops reaches STOP without raising; prints no value (genops builds none).
genops stops at the first STOP, so trailing bytes are ignored, as the unpicklers ignore them;
it checks opcode arguments but not the stack, the memo or the marks. Speaks the persistent
protocol too (BRINE_PERSISTENT=1); buffers and extension registries do not concern genops.
"""
import io
import os
import pickletools
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import adapter_util as au  # noqa: E402


def decode(case):
    try:
        for _ in pickletools.genops(io.BytesIO(case.data)):
            pass
    except Exception as e:  # any exception genops raises is its rejection
        return au.reject(e)
    return au.accept()


if __name__ == "__main__":
    au.main(decode)
