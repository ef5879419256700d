"""Hand-made streams (decode/handwritten.jsonl): every opcode, its truncations and underflows,
CPython's quirks, and hostile shapes, section by section (the sections on globals, calls,
containers, memo, buffers and frames are in handwritten_objects.py).

Opcodes are built with scripts/opcode_layout.py, from pickletools' table: argument widths,
length prefixes and stack effects are CPython's, stated nowhere here.  Literal byte strings
are the cases themselves (often deliberately malformed): a case is the bytes it shows.
"""

from opcode_layout import OPCODES, asm, code, frame, op, operands, takes_mark, under_mark


def P(n):
    """PROTO n"""
    return op("PROTO", n)


P0 = b""
P2 = P(2)
P3 = P(3)
P4 = P(4)
P5 = P(5)
STOP = op("STOP")


def K(n):
    return op("BININT1", n)


def SU(s):
    """SHORT_BINUNICODE of a str (UTF-8, surrogates allowed) or of raw bytes."""
    return op("SHORT_BINUNICODE", s)


def BU(s):
    return op("BINUNICODE", s)


def SB(b):
    return op("SHORT_BINBYTES", b)


def BB(b):
    return op("BINBYTES", b)


def BA8(b, length=None):
    return op("BYTEARRAY8", b, length)


def STR0(s):
    """STRING of s in single quotes."""
    return op("STRING", b"'" + s + b"'")


def GL(m, n):
    return op("GLOBAL", (m, n))


def SG(m, n):
    return SU(m) + SU(n) + op("STACK_GLOBAL")


FR = frame
GLOB = GL(b"m", b"f")                       # a stand-in class
REC = GLOB + asm("EMPTY_TUPLE", "REDUCE")   # a Record (m.f())
BF = op("BINFLOAT", 1.0)


def handwritten_cases():
    """[(name, bytes, buffers, note)], names unique, in section order."""
    from . import handwritten_objects
    cases = []
    names = set()

    def add(name, data, buffers=0, note=None):
        name = "handwritten/" + name
        assert name not in names, name
        names.add(name)
        cases.append((name, data, buffers, note))

    for section in SECTIONS + handwritten_objects.SECTIONS:
        section(add)
    return cases


# One success stream per opcode, in pickle.py's order: (opcode name, prefix, the opcode with
# its argument, suffix).  Also the templates of the truncation cases, which cut the opcode's
# bytes (and FRAME's payload) at up to 8 points.
TEMPLATES = [
    ("MARK", b"", op("MARK"), asm(K(1), "LIST", "STOP")),
    ("STOP", op("NONE"), STOP, b""),
    ("POP", asm("NONE", K(1)), op("POP"), STOP),
    ("POP_MARK", asm("NONE", "MARK", K(1), K(2)), op("POP_MARK"), STOP),
    ("DUP", K(7), op("DUP"), asm("TUPLE2", "STOP")),
    ("FLOAT", b"", op("FLOAT", b"1.5"), STOP),
    ("INT", b"", op("INT", 42), STOP),
    ("BININT", b"", op("BININT", -123456), STOP),
    ("BININT1", b"", op("BININT1", 0xff), STOP),
    ("LONG", b"", op("LONG", b"12345678901234567890L"), STOP),
    ("BININT2", b"", op("BININT2", 0xffff), STOP),
    ("NONE", b"", op("NONE"), STOP),
    ("PERSID", b"", op("PERSID", b"pid-1"), STOP),
    ("BINPERSID", SU("pid"), op("BINPERSID"), STOP),
    ("REDUCE", GLOB + asm(K(1), "TUPLE1"), op("REDUCE"), STOP),
    ("STRING", b"", op("STRING", b"'abc'"), STOP),
    ("BINSTRING", b"", op("BINSTRING", b"abc"), STOP),
    ("SHORT_BINSTRING", b"", op("SHORT_BINSTRING", b"abc"), STOP),
    ("UNICODE", b"", op("UNICODE", b"abc\\u20ac"), STOP),
    ("BINUNICODE", b"", BU("\u20acuro"), STOP),
    ("APPEND", asm("EMPTY_LIST", K(1)), op("APPEND"), STOP),
    ("BUILD", REC + op("EMPTY_DICT"), op("BUILD"), STOP),
    ("GLOBAL", b"", GL(b"os", b"system"), STOP),
    ("DICT", asm("MARK", K(1), K(2)), op("DICT"), STOP),
    ("EMPTY_DICT", b"", op("EMPTY_DICT"), STOP),
    ("APPENDS", asm("EMPTY_LIST", "MARK", K(1), K(2)), op("APPENDS"), STOP),
    ("GET", asm(K(5), ("PUT", 0), "POP"), op("GET", 0), STOP),
    ("BINGET", asm(K(5), ("BINPUT", 1), "POP"), op("BINGET", 1), STOP),
    ("INST", asm("MARK", K(1)), op("INST", (b"m", b"f")), STOP),
    ("LONG_BINGET", asm(K(5), ("LONG_BINPUT", 0x100), "POP"), op("LONG_BINGET", 0x100), STOP),
    ("LIST", asm("MARK", K(1), K(2)), op("LIST"), STOP),
    ("EMPTY_LIST", b"", op("EMPTY_LIST"), STOP),
    ("OBJ", op("MARK") + GLOB + K(1), op("OBJ"), STOP),
    ("PUT", K(5), op("PUT", 7), STOP),
    ("BINPUT", K(5), op("BINPUT", 7), STOP),
    ("LONG_BINPUT", K(5), op("LONG_BINPUT", 7), STOP),
    ("SETITEM", asm("EMPTY_DICT", K(1), K(2)), op("SETITEM"), STOP),
    ("TUPLE", asm("MARK", K(1), K(2)), op("TUPLE"), STOP),
    ("EMPTY_TUPLE", b"", op("EMPTY_TUPLE"), STOP),
    ("SETITEMS", asm("EMPTY_DICT", "MARK", K(1), K(2), K(3), K(4)), op("SETITEMS"), STOP),
    ("BINFLOAT", b"", op("BINFLOAT", -2.5), STOP),
    ("PROTO", b"", P(2), asm("NONE", "STOP")),
    ("NEWOBJ", P2 + GLOB + asm(K(1), "TUPLE1"), op("NEWOBJ"), STOP),
    ("EXT1", P2, op("EXT1", 0x01), STOP),
    ("EXT2", P2, op("EXT2", 0x0201), STOP),
    ("EXT4", P2, op("EXT4", 0x04030201), STOP),
    ("TUPLE1", P2 + K(1), op("TUPLE1"), STOP),
    ("TUPLE2", P2 + K(1) + K(2), op("TUPLE2"), STOP),
    ("TUPLE3", P2 + K(1) + K(2) + K(3), op("TUPLE3"), STOP),
    ("NEWTRUE", P2, op("NEWTRUE"), STOP),
    ("NEWFALSE", P2, op("NEWFALSE"), STOP),
    ("LONG1", P2, op("LONG1", -0x800000), STOP),
    ("LONG4", P2, op("LONG4", 0x7fffff), STOP),
    ("BINBYTES", P3, BB(b"bytes"), STOP),
    ("SHORT_BINBYTES", P3, SB(b"short"), STOP),
    ("SHORT_BINUNICODE", P4, SU("short \u20ac"), STOP),
    ("BINUNICODE8", P4, op("BINUNICODE8", "abc"), STOP),
    ("BINBYTES8", P4, op("BINBYTES8", b"abc"), STOP),
    ("EMPTY_SET", P4, op("EMPTY_SET"), STOP),
    ("ADDITEMS", P4 + asm("EMPTY_SET", "MARK", K(1), K(2)), op("ADDITEMS"), STOP),
    ("FROZENSET", P4 + asm("MARK", K(1), K(2)), op("FROZENSET"), STOP),
    ("NEWOBJ_EX", P4 + GLOB + asm(K(1), "TUPLE1", "EMPTY_DICT", SU("kw"), K(2), "SETITEM"),
     op("NEWOBJ_EX"), STOP),
    ("STACK_GLOBAL", P4 + SU("os") + SU("system"), op("STACK_GLOBAL"), STOP),
    ("MEMOIZE", P4 + K(5), op("MEMOIZE"), asm("POP", ("BINGET", 0), "STOP")),
    ("FRAME", P4, FR(K(1) + STOP), b""),
    ("BYTEARRAY8", P5, BA8(b"bytearray"), STOP),
    ("NEXT_BUFFER", P5, op("NEXT_BUFFER"), STOP),
    ("READONLY_BUFFER", P5 + op("NEXT_BUFFER"), op("READONLY_BUFFER"), STOP),
]


def _opcodes(add):
    """Every opcode once (TEMPLATES), its argument truncated, and without the STOP after it."""
    assert all(oparg[:1] == code(name) for name, _, oparg, _ in TEMPLATES)
    assert sorted(t[0] for t in TEMPLATES) == sorted(OPCODES) and len(OPCODES) == 68
    for name, pre, oparg, post in TEMPLATES:
        bufs = 1 if name in ("NEXT_BUFFER", "READONLY_BUFFER") else 0
        add("opcode/%s/ok" % name, pre + oparg + post, bufs)
        # truncated argument: every cut inside the argument (at most 8, evenly spread)
        n = len(oparg)
        cuts = list(range(1, n))
        if len(cuts) > 8:
            cuts = sorted({cuts[i * len(cuts) // 8] for i in range(8)} | {n - 1})
        for k in cuts:
            add("truncated/%s/%d_of_%d" % (name, k, n), pre + oparg[:k], bufs)
        # no STOP after the opcode
        if post:
            add("opcode/%s/no_stop" % name, pre + oparg, bufs)


# The opcodes whose operands (pickletools' stack_before, and the top a memo store reads) can
# be missing, and those that need a mark, in the order the cases were first written in; the
# sets are checked against pickletools.
UNDERFLOW = ["POP", "DUP", "APPEND", "BUILD", "REDUCE", "SETITEM", "PUT", "BINPUT",
             "LONG_BINPUT", "MEMOIZE", "NEWOBJ", "NEWOBJ_EX", "TUPLE1", "TUPLE2", "TUPLE3",
             "STACK_GLOBAL", "BINPERSID", "READONLY_BUFFER", "STOP"]
NO_MARK = ["TUPLE", "LIST", "DICT", "APPENDS", "SETITEMS", "ADDITEMS", "FROZENSET", "POP_MARK",
           "OBJ", "INST"]
# the argument these cases give an opcode that takes one (a memo index, a class)
SAMPLE_ARG = {"PUT": 0, "BINPUT": 0, "LONG_BINPUT": 0, "INST": (b"m", b"f")}


def _stack(add):
    """Stack underflow, a missing mark, a missing target below the mark, STOP's stack."""
    assert set(UNDERFLOW) == {n for n in OPCODES if not takes_mark(n) and operands(n)}
    assert set(NO_MARK) == {n for n in OPCODES if takes_mark(n)}
    for nm in UNDERFLOW:
        need = operands(nm)
        code = op(nm, SAMPLE_ARG.get(nm))
        end = STOP if nm != "STOP" else b""
        add("underflow/%s/empty_stack" % nm, code + end)
        add("underflow/%s/after_mark" % nm, op("MARK") + code + end)
        if need > 1:
            add("underflow/%s/one_short" % nm, op("NONE") * (need - 1) + code + STOP)
            add("underflow/%s/one_short_after_mark" % nm,
                asm("NONE", "MARK") + op("NONE") * (need - 1) + code + STOP)
    for nm in NO_MARK:
        code = op(nm, SAMPLE_ARG.get(nm))
        add("no_mark/%s/empty_stack" % nm, code + STOP)
        add("no_mark/%s/with_items" % nm, asm("EMPTY_LIST", K(1)) + code + STOP)
    for nm in [n for n in OPCODES if under_mark(n)]:   # APPENDS, SETITEMS, ADDITEMS
        add("underflow/%s/no_target_below_mark" % nm, asm("MARK", K(1), nm, "STOP"))
        add("underflow/%s/no_target_empty_mark" % nm, asm("MARK", nm, "STOP"))
    add("underflow/OBJ/mark_only", b"(o.")
    add("stop/empty", b".")
    add("stop/empty_input", b"")
    add("stop/mark_on_top", b"N(.")
    add("stop/two_values", b"NK\x01.")
    add("stop/value_under_mark", b"K\x01(K\x02.")


def _quirks(add):
    """Rows of shared/notes/cpython-quirks.md, one case or more each."""
    add("quirk01/unknown_opcode_ff", b"\xff")
    add("quirk01/unknown_opcode_after_value", b"N\xff.")
    add("quirk01/unknown_opcode_nul", b"\x00")
    add("quirk02/tuple_no_mark", b"t.")
    add("quirk02/pop_empty", b"0")
    add("quirk02/dup_empty", b"2")
    add("quirk02/tuple1_empty", b"\x85")
    add("quirk03/dict_odd", b"(Nd.")
    add("quirk03/setitems_odd", b"}(K\x01u.")
    add("quirk04/mark_at_stop", b"N(.")
    add("quirk05/build_falsy_list_state", b"]]b.")
    add("quirk05/build_zero_state", b"]K\x00b.")
    add("quirk05/build_empty_str_state_on_dict", b"}X\x00\x00\x00\x00b.")
    add("quirk06/newobj_list_args", P2 + GLOB + b"]\x81.")
    add("quirk06/newobj_ex_list_args", P4 + GLOB + b"]}\x92.")
    add("quirk07/reduce_list_args", GLOB + b"]R.")
    add("quirk07/reduce_list_args_items", GLOB + b"(K\x01lR.")
    add("quirk08/empty_appends_on_bool", P2 + b"\x88(e.")
    add("quirk08/empty_additems_on_int", P4 + b"K\x01(\x90.")
    add("quirk08/empty_setitems_on_none", b"N(u.")
    add("quirk09/int_nul_junk", b"I1\x00junk\n.")
    add("quirk09/long_nul_junk", b"L1\x00junk\n.")
    add("quirk09/float_nul_junk", b"F1.5\x00junk\n.")
    add("quirk10/float_leading_space", b"F 5\n.")
    add("quirk10/float_trailing_space", b"F5 \n.")
    add("quirk10/float_underscore", b"F1_0\n.")
    add("quirk11/binstring_2p31", b"T\x00\x00\x00\x80abc.")
    add("quirk11/binstring_neg1", b"T\xff\xff\xff\xffabc.")
    add("quirk12/binbytes8_2p62", P4 + op("BINBYTES8", b"abc", length=2 ** 62) + b".")
    add("quirk12/binbytes8_2p63", P4 + op("BINBYTES8", b"abc", length=2 ** 63) + b".")
    add("quirk12/binbytes8_max", P4 + op("BINBYTES8", b"abc", length=2 ** 64 - 1) + b".")
    add("quirk13/arg_straddles_frame", P4 + FR(b"\x8c\x03a") + b"bc.")
    add("quirk13/frame_in_frame", P4 + FR(FR(b"K\x01.")))
    add("quirk13/frame_in_frame_partial", P4 + FR(b"K\x01" + FR(b"\x85."), length=4))
    add("quirk13/binbytes_straddles_frame", P4 + FR(b"C\x05ab") + b"cde.",
        note="genops sees a harmless SHORT_BINBYTES either way")
    add("quirk13/frame_ends_in_binbytes_holding_global_text",
        P4 + FR(b"C\x0b") + GL(b"os", b"system") + b".",
        note="a FRAME ends inside SHORT_BINBYTES's argument, which spells a GLOBAL")
    add("quirk14/frame_past_eof", P4 + FR(b"K\x01.", length=100))
    add("quirk14/frame_past_eof_huge", P4 + FR(b"K\x01.", length=2 ** 40))
    add("quirk15/long_binput_7fffffff", b"N" + op("LONG_BINPUT", 0x7fffffff) + b".")
    add("quirk15/long_binput_ffffffff", b"N" + op("LONG_BINPUT", 0xffffffff) + b".")
    add("quirk15/long_binput_16M", b"N" + op("LONG_BINPUT", 0x00ffffff) + op("LONG_BINGET", 0x00ffffff) + b".")
    add("quirk15/put_text_huge", b"Np4294967295\n.")
    add("quirk15/put_text_bigger_than_ssize", b"Np99999999999999999999\n.")
    add("quirk16/persid", b"Pabc\n.",
        note="the sandbox supplies persistent_load, so row 16's messages do not show")
    add("quirk17/newobj_int_cls", P2 + b"K\x01)\x81.")
    add("quirk17/newobj_record_cls", P2 + REC + b")\x81.")
    add("quirk17/newobj_list_cls", P2 + b"])\x81.")


def _proto(add):
    """PROTO: every protocol number, twice, mid-stream, lowered."""
    for p in range(7):
        add("proto/%d" % p, op("PROTO", p) + b"N.")
    add("proto/255", b"\x80\xffN.")
    add("proto/twice", P2 + P4 + b"N.")
    add("proto/mid_stream", b"N0" + P3 + b"N.")
    add("proto/fix_imports_switch",
        P2 + GL(b"__builtin__", b"xrange") + P3 + GL(b"__builtin__", b"xrange") + b"\x86.")
    add("proto/lowered_after_4",
        P4 + SG("a", "b.c") + b"\x80\x02" + SG("a", "b.c") + b"\x86.")


def _numbers(add):
    """INT / LONG / FLOAT text forms, BINFLOAT bit patterns, binary ints."""
    int_forms = [
        ("00", b"00"), ("01", b"01"), ("02", b"02"), ("0", b"0"), ("1", b"1"),
        ("space_1", b" 1"), ("1_space", b"1 "), ("plus_1", b"+1"), ("minus_0", b"-0"),
        ("minus_00", b"-00"), ("010", b"010"), ("0x10", b"0x10"), ("0o17", b"0o17"),
        ("0b11", b"0b11"), ("1_000", b"1_000"), ("1_nul_junk", b"1\x00junk"),
        ("nul", b"\x00"), ("empty", b""), ("minus", b"-"), ("1L", b"1L"),
        ("2p63", b"9223372036854775808"), ("2p63m1", b"9223372036854775807"),
        ("neg2p63m1", b"-9223372036854775809"), ("20_digits", b"12345678901234567890"),
        ("digits_4300", b"1" * 4300), ("digits_4301", b"1" * 4301),
        ("0x_4301", b"0x" + b"f" * 4301), ("nonascii_digit", "\u0661".encode()),
        ("tab_1", b"\t1"), ("1e3", b"1e3"), ("0_space", b"0 "), ("00_zero_three", b"000"),
    ]
    for label, txt in int_forms:
        add("int_text/%s" % label, b"I" + txt + b"\n.")
    add("int_text/no_newline", b"I12")
    long_forms = [
        ("123L", b"123L"), ("123", b"123"), ("minus_0L", b"-0L"), ("0x10L", b"0x10L"),
        ("space_1L", b" 1L"), ("1_000L", b"1_000L"), ("L_only", b"L"), ("empty", b""),
        ("LL", b"1LL"), ("lower_l", b"1l"), ("010L", b"010L"), ("digits_4300", b"2" * 4300),
        ("digits_4301", b"2" * 4301), ("digits_4301_L", b"2" * 4301 + b"L"),
        ("nul", b"1\x00L"),
    ]
    for label, txt in long_forms:
        add("long_text/%s" % label, b"L" + txt + b"\n.")
    float_forms = [
        ("1_5", b"1.5"), ("space_1_5", b" 1.5"), ("1_5_space", b"1.5 "), ("1e500", b"1e500"),
        ("neg1e500", b"-1e500"), ("1e-400", b"1e-400"), ("nan", b"nan"), ("neg_nan", b"-nan"),
        ("NaN", b"NaN"), ("inf", b"inf"), ("neg_inf", b"-inf"), ("infinity", b"Infinity"),
        ("dot5", b".5"), ("5dot", b"5."), ("1_0", b"1_0"), ("1_0dot5", b"1_0.5"),
        ("hex", b"0x1p3"), ("empty", b""), ("comma", b"1,5"), ("plus", b"+1.5"),
        ("neg0", b"-0.0"), ("int", b"7"), ("L", b"1.5L"), ("exp_only", b"e5"),
        ("digits_5000", b"1" * 5000), ("tab", b"\t2.5"),
    ]
    for label, txt in float_forms:
        add("float_text/%s" % label, b"F" + txt + b"\n.")
    for label, v in (("nan_payload", b"\x7f\xf8\x00\x00\x00\x00\x00\x01"),
                     ("neg_zero", b"\x80" + b"\x00" * 7), ("inf", b"\x7f\xf0" + b"\x00" * 6),
                     ("subnormal", b"\x00" * 7 + b"\x01"), ("snan", b"\x7f\xf0" + b"\x00" * 5 + b"\x01")):
        add("binfloat/%s" % label, b"G" + v + b".")
    # binary ints
    add("binint/neg1", b"J\xff\xff\xff\xff.")
    add("binint/min", b"J\x00\x00\x00\x80.")
    add("binint2/max", b"M\xff\xff.")
    add("long1/empty", P2 + b"\x8a\x00.")
    add("long1/neg_one_byte", P2 + b"\x8a\x01\xff.")
    add("long1/255_bytes", P2 + b"\x8a\xff" + b"\xff" * 254 + b"\x7f.")
    add("long1/non_minimal", P2 + b"\x8a\x04\x01\x00\x00\x00.")
    add("long4/empty", P2 + b"\x8b\x00\x00\x00\x00.")
    add("long4/negative_length", P2 + b"\x8b\xff\xff\xff\xff\x00.")
    add("long4/10k_bytes", P2 + op("LONG4", bytes(range(256)) * 39 + b"\x00" * 16) + b".")
    add("long4/length_2p31m1", P2 + op("LONG4", b"\x01", length=2 ** 31 - 1) + b".")


def _strings(add):
    """STRING / BINSTRING / SHORT_BINSTRING, the unicode and bytes opcodes."""
    string_forms = [
        ("single", b"'abc'"), ("double", b'"abc"'), ("no_end_quote", b"'abc"),
        ("no_quotes", b"abc"), ("mismatched", b"'abc\""), ("empty", b"''"),
        ("lone_quote", b"'"), ("lone_dquote", b'"'), ("empty_line", b""),
        ("hex_escape", b"'\\x41'"), ("octal", b"'\\101\\0\\7'"), ("octal_high", b"'\\377'"),
        ("bad_hex_short", b"'\\x4'"), ("bad_hex_chars", b"'\\xZZ'"),
        ("unknown_escape", b"'\\q'"), ("escaped_quote", b"'\\''"), ("newline_escape", b"'a\\nb'"),
        ("trailing_backslash", b"'abc\\'"), ("nonascii_utf8", "'caf\xe9'".encode()),
        ("escaped_nonascii", b"'\\xe9'"), ("nul", b"'a\x00b'"), ("inner_quotes", b"'a'b'"),
        ("space_after", b"'abc' "),
    ]
    for label, txt in string_forms:
        add("string/%s" % label, b"S" + txt + b"\n.")
    add("binstring/nonascii", b"T\x02\x00\x00\x00\xc3\xa9.")
    add("binstring/empty", b"T\x00\x00\x00\x00.")
    add("short_binstring/nonascii", b"U\x01\xff.")
    add("short_binstring/at_proto3", P3 + b"U\x03abc.")
    add("binunicode/bad_utf8", b"X\x01\x00\x00\x00\xff.")
    add("binunicode/lone_surrogate", BU("\ud800") + b".")
    add("binunicode/surrogate_pair_bytes", b"X\x06\x00\x00\x00\xed\xa0\xbd\xed\xb8\x80.")
    add("binunicode/overlong", b"X\x02\x00\x00\x00\xc0\x80.")
    add("binunicode/huge_length", b"X\xff\xff\xff\xffabc.")
    add("short_binunicode/bad_utf8", P4 + b"\x8c\x02\xc3(.")
    add("binunicode8/huge_length", P4 + op("BINUNICODE8", b"abc", length=2 ** 62) + b".")
    add("binunicode8/2p63", P4 + op("BINUNICODE8", b"abc", length=2 ** 63) + b".")
    add("binbytes/huge_length", P3 + b"B\xff\xff\xff\xffabc.")
    add("binbytes/2p31", P3 + b"B\x00\x00\x00\x80abc.")
    add("bytearray8/huge_length", P5 + BA8(b"abc", length=2 ** 62) + b".")
    add("bytearray8/2p63", P5 + BA8(b"abc", length=2 ** 63) + b".")
    add("bytearray8/at_proto2", P2 + BA8(b"x") + b".")
    unicode_forms = [
        ("plain", b"abc"), ("u_escape", b"\\u0041\\u20ac"), ("U_escape", b"\\U0001f600"),
        ("U_too_big", b"\\U00110000"), ("u_truncated", b"\\u00"), ("U_truncated", b"\\U0001f6"),
        ("u_bad_hex", b"\\uZZZZ"), ("x_not_escape", b"\\x41"), ("backslash_n", b"\\n"),
        ("latin1_bytes", b"\xc3\xa9"), ("high_byte", b"\xff"), ("lone_surrogate", b"\\ud800"),
        ("double_backslash_u", b"\\\\u0041"), ("trailing_backslash", b"abc\\"), ("empty", b""),
        ("cr", b"a\rb"), ("nul", b"a\x00b"), ("surrogate_pair", b"\\ud83d\\ude00"),
    ]
    for label, txt in unicode_forms:
        add("unicode/%s" % label, b"V" + txt + b"\n.")


SECTIONS = [_opcodes, _stack, _quirks, _proto, _numbers, _strings]
