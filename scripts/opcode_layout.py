"""Opcode bytes laid out as CPython's pickletools describes them, for every generator here.

pickletools.opcodes is CPython's own table of the 68 pickle opcodes: each one's code, its
argument (an ArgumentDescriptor whose n is a fixed width, UP_TO_NEWLINE, or one of the
TAKEN_FROM_ARGUMENT1/4/4U/8U length prefixes) and its stack effect (stack_before,
stack_after).  The generators build opcodes with op() and asm() below, so that none of them
restates an argument's width, a length prefix's width or an opcode's operands: there is one
table, CPython's, and a stream built here means what pickletools says it means.

    op("BININT1", 5)                         b"K\\x05"
    op("SHORT_BINUNICODE", "os")             b"\\x8c\\x02os"      (str: UTF-8, surrogatepass)
    op("GLOBAL", (b"os", b"system"))         b"cos\\nsystem\\n"   (a tuple: one line each)
    op("PUT", 3)                             b"p3\\n"             (an int on a text line)
    op("BINBYTES8", b"abc", length=2 ** 62)  a declared length other than the payload's
    op("LONG_BINPUT", -1)                    a negative int: its two's complement bit pattern
    asm(("BININT1", 1), "TUPLE1", "STOP")    b"K\\x01\\x85."

Hostile streams need argument bytes a well-formed pickle never has (a length past the data,
a negative or 2**63 length, an index with the high bit set): op() writes whatever value fits
the field's width as the field's bit pattern, and leaves judging it to the unpicklers.

What pickletools describes but does not spell as data, and is therefore assumed here and
checked against pickletools' own readers at import: every integer field (fixed-width
arguments, length prefixes) is little-endian; float8 is a big-endian IEEE double.  A
length prefix's width is measured, not stated: pickletools' reader is made to read an empty
argument (a zero prefix and no data) and the bytes it consumed are the prefix.
"""

import io
import pickle
import pickletools
import struct

OPCODES = {op.name: op for op in pickletools.opcodes}

# Memo stores that pickletools models as [] -> [] although they read the stack top (its dis()
# special-cases these names to say "stack is empty -- can't store into memo").
MEMO_STORES = ("PUT", "BINPUT", "LONG_BINPUT", "MEMOIZE")


def info(name):
    """pickletools' OpcodeInfo for an opcode name."""
    return OPCODES[name]


def code(name):
    """The opcode's byte."""
    return OPCODES[name].code.encode("latin-1")


def _prefix_width(arg):
    """Bytes in front of a length-prefixed argument's data, measured with pickletools' reader
    on an empty argument."""
    f = io.BytesIO(bytes(16))
    arg.reader(f)
    return f.tell()


PREFIX_WIDTH = {op.arg.name: _prefix_width(op.arg) for op in pickletools.opcodes
                if op.arg is not None and op.arg.n < pickletools.UP_TO_NEWLINE}


def _field(value, width):
    """An integer field of `width` bytes, little-endian; a negative value is written as its
    two's complement, so a signed field reads it back and an unsigned one reads the pattern."""
    return value.to_bytes(width, "little", signed=value < 0)


def _check_layout():
    """The assumptions of the module doc, against pickletools' readers: a length prefix of 1
    followed by one data byte is read whole; fixed-width ints read back what _field wrote."""
    for op in pickletools.opcodes:
        arg = op.arg
        if arg is None or arg.n == pickletools.UP_TO_NEWLINE:
            continue
        if arg.n < 0:
            f = io.BytesIO(_field(1, PREFIX_WIDTH[arg.name]) + b"0" + b"\x00" * 16)
            arg.reader(f)
            assert f.tell() == PREFIX_WIDTH[arg.name] + 1, op.name
        elif arg is not pickletools.float8:
            assert arg.reader(io.BytesIO(_field(1, arg.n))) == 1, op.name
    assert pickletools.float8.reader(io.BytesIO(struct.pack(">d", -1.25))) == -1.25


_check_layout()


def _payload(value):
    if isinstance(value, str):
        return value.encode("utf-8", "surrogatepass")
    if isinstance(value, int):
        return pickle.encode_long(value)   # LONG1, LONG4: minimal two's complement
    return bytes(value)


def _line(value):
    if isinstance(value, int):
        return b"%d\n" % value
    return bytes(value) + b"\n"


def argument(name, value=None, length=None):
    """The argument bytes of opcode `name` for `value` (see the module doc for the types);
    `length` overrides the declared length of a length-prefixed argument."""
    arg = OPCODES[name].arg
    if arg is None:
        assert value is None and length is None, "%s takes no argument" % name
        return b""
    assert value is not None, "%s takes an argument" % name
    if arg.n == pickletools.UP_TO_NEWLINE:
        assert length is None
        if isinstance(value, tuple):
            return b"".join(_line(v) for v in value)
        return _line(value)
    if arg.n < 0:
        data = _payload(value)
        declared = len(data) if length is None else length
        return _field(declared, PREFIX_WIDTH[arg.name]) + data
    assert length is None
    if isinstance(value, (bytes, bytearray)):
        assert len(value) == arg.n, (name, value)
        return bytes(value)
    if arg is pickletools.float8:
        data = struct.pack(">d", value)
        assert len(data) == arg.n
        return data
    data = _field(value, arg.n)
    mod = 1 << (8 * arg.n)
    assert arg.reader(io.BytesIO(data)) % mod == value % mod, (name, value)
    return data


def op(name, value=None, length=None):
    """Opcode `name` followed by its argument (argument() for value and length)."""
    return code(name) + argument(name, value, length)


def asm(*items):
    """Concatenates opcodes: a name (no argument), a tuple (name, value[, length]) or bytes
    taken as they are."""
    out = []
    for item in items:
        if isinstance(item, str):
            out.append(op(item))
        elif isinstance(item, tuple):
            out.append(op(*item))
        else:
            out.append(bytes(item))
    return b"".join(out)


def frame(payload, length=None):
    """FRAME declaring len(payload) (or `length`) bytes, then the payload."""
    return op("FRAME", len(payload) if length is None else length) + payload


def takes_mark(name):
    """Whether the opcode pops a mark (and the items above it)."""
    return pickletools.markobject in OPCODES[name].stack_before


def under_mark(name):
    """Stack items the opcode needs below its mark (APPENDS' list...); 0 without a mark."""
    before = OPCODES[name].stack_before
    return before.index(pickletools.markobject) if pickletools.markobject in before else 0


def operands(name):
    """Stack items an opcode without a mark needs on the stack: its stack_before, or the top
    a memo store reads."""
    assert not takes_mark(name), name
    need = len(OPCODES[name].stack_before)
    return max(need, 1) if name in MEMO_STORES else need
