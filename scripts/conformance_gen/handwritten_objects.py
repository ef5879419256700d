"""Hand-made streams, continued (decode/handwritten.jsonl, after handwritten.py's sections):
globals and their names, calls, BUILD and the container opcodes on every kind of target, dict
and set keys, the memo, EXT, persistent ids, buffers, frames, parser confusion, resource
shapes.  Built as in handwritten.py: opcodes with arguments through opcode_layout (directly
or by the short helpers there), literal byte strings as the cases themselves.
"""

from opcode_layout import asm, op

from .handwritten import BA8, BB, BF, FR, GL, GLOB, K, P0, P2, P3, P4, P5, REC, SB, SG, STR0, SU


def _globals(add):
    """GLOBAL / INST / STACK_GLOBAL names, fix_imports, OBJ."""
    globals_ = [
        ("nonascii_module", "caf\xe9".encode(), b"x"),
        ("nonutf8_module", b"\xff", b"x"), ("nonutf8_name", b"os", b"\xfe"),
        ("empty_module", b"", b"x"), ("empty_name", b"os", b""), ("dotted_module", b"os.path", b"join"),
        ("dotted_name", b"os", b"path.join"), ("locals_name", b"m", b"f.<locals>.g"),
        ("nul_in_name", b"os", b"a\x00b"), ("space_name", b"os", b" system"),
        ("cr_name", b"os", b"system\r"), ("leading_dot_module", b".os", b"x"),
        ("trailing_dot_name", b"os", b"x."), ("double_dot_name", b"os", b"a..b"),
        ("dunder_class", b"os", b"__class__"), ("dunder_dict", b"os", b"__dict__"),
        ("builtins_eval", b"builtins", b"eval"),
    ]
    for label, m, n in globals_:
        for pname, ph in (("p0", P0), ("p2", P2), ("p3", P3), ("p4", P4)):
            add("global/%s/%s" % (label, pname), ph + GL(m, n) + b".")
    add("global/truncated_module_line", b"cos")
    add("global/truncated_name_line", b"cos\nsystem")
    add("global/one_line", b"cos.system\n.")
    for label, (m, n) in {
        "__builtin__.xrange": (b"__builtin__", b"xrange"),
        "__builtin__.unicode": (b"__builtin__", b"unicode"),
        "__builtin__.set": (b"__builtin__", b"set"),
        "copy_reg._reconstructor": (b"copy_reg", b"_reconstructor"),
        "exceptions.StandardError": (b"exceptions", b"StandardError"),
        "UserDict.UserDict": (b"UserDict", b"UserDict"),
        "whichdb.whichdb": (b"whichdb", b"whichdb"),
        "urllib.quote": (b"urllib", b"quote"),
        "cPickle.loads": (b"cPickle", b"loads"),
        "itertools.izip": (b"itertools", b"izip"),
        "exceptions.ImportError": (b"exceptions", b"ImportError"),
    }.items():
        for pname, ph in (("p0", P0), ("p2", P2), ("p3", P3)):
            add("fix_imports/%s/%s" % (label, pname), ph + GL(m, n) + b".")
        add("fix_imports/%s/stack_global_p2" % label,
            P2 + SU(m) + SU(n) + b"\x93.")
    for pname, ph in (("p0", P0), ("p2", P2), ("p4", P4)):
        add("stack_global/dotted/%s" % pname, ph + SG("os", "path.join") + b".")
        add("stack_global/locals/%s" % pname, ph + SG("m", "f.<locals>.g") + b".")
        add("stack_global/locals_first/%s" % pname, ph + SG("m", "<locals>") + b".")
    add("stack_global/bytes_operands", P4 + SB(b"os") + SB(b"system") + b"\x93.")
    add("stack_global/int_operands", P4 + b"K\x01K\x02\x93.")
    add("stack_global/str_and_int", P4 + SU("os") + b"K\x02\x93.")
    add("stack_global/int_and_str", P4 + b"K\x01" + SU("system") + b"\x93.")
    add("stack_global/from_memo", P4 + SU("os") + b"\x94" + SU("system") + b"\x94h\x00h\x01\x93.")
    add("stack_global/lone_surrogate_module", P4 + SU("\ud800") + SU("x") + b"\x93.")
    add("stack_global/lone_surrogate_name", P4 + SU("m") + SU("\udc80y") + b"\x93.")
    add("stack_global/empty_module", P4 + SU("") + SU("x") + b"\x93.")
    add("stack_global/nul_module", P4 + SU("a\x00b") + SU("x") + b"\x93.")
    add("stack_global/same_twice_is_one_key",
        P4 + b"}" + SG("m", "f") + b"K\x01s" + SG("m", "f") + b"K\x02s.")
    add("inst/no_args", b"(im\nf\n.")
    add("inst/with_args", b"(K\x01S'x'\nim\nf\n.")
    add("inst/nonascii_module", b"(i\xc3\xa9\nf\n.")
    add("inst/nonutf8", b"(i\xff\nf\n.")
    add("inst/empty_module", b"(i\nf\n.")
    add("inst/dotted_p4", P4 + b"(im\na.b\n.")
    add("inst/locals_p4", P4 + b"(im\na.<locals>\n.")
    add("inst/truncated_name", b"(im\nf")
    add("obj/global_no_args", b"(" + GLOB + b"o.")
    add("obj/global_args", b"(" + GLOB + b"K\x01K\x02o.")
    add("obj/record_cls", b"(" + REC + b"K\x01o.")
    add("obj/record_cls_no_args", b"(" + REC + b"o.")
    add("obj/int_cls", b"(K\x01K\x02o.")
    add("obj/list_cls_no_args", b"(]o.")
    add("obj/then_pop_hides_call", b"(" + GL(b"os", b"system") + STR0(b"ls") + b"o0N.")
    add("inst/then_pop_hides_call", b"(" + STR0(b"ls") + b"ios\nsystem\n0N.")


def _calls(add):
    """REDUCE / NEWOBJ / NEWOBJ_EX with every kind of callable and arguments."""
    callables = {"global": GLOB, "record": REC, "int": b"K\x01", "list": b"]", "none": b"N",
                 "str": SU("f")}
    argses = {"tuple": b"K\x01\x85", "empty_tuple": b")", "list": b"]", "dict": b"}",
              "none": b"N", "str": SU("ab"), "record": REC}
    for cn, cb in callables.items():
        for an, ab in argses.items():
            add("reduce/%s/%s_args" % (cn, an), P4 + cb + ab + b"R.")
    for cn, cb in callables.items():
        for an, ab in (("tuple", b"K\x01\x85"), ("list", b"(K\x01l"), ("none", b"N"),
                       ("dict", b"}"), ("str", SU("ab"))):
            add("newobj/%s/%s_args" % (cn, an), P2 + cb + ab + b"\x81.")
    kwargses = {"dict": b"}" + SU("k") + b"K\x01s", "empty_dict": b"}", "list": b"]",
                "none": b"N", "int_key": b"}K\x01K\x02s", "record": REC}
    for an, ab in (("tuple", b"K\x01\x85"), ("list", b"(K\x01l")):
        for kn, kb in kwargses.items():
            add("newobj_ex/global/%s_args/%s_kwargs" % (an, kn), P4 + GLOB + ab + kb + b"\x92.")
    add("newobj_ex/int_cls", P4 + b"K\x01)}\x92.")
    add("newobj_ex/record_cls", P4 + REC + b")}\x92.")
    add("newobj/then_build", P2 + GLOB + b")\x81}" + SU("a") + b"K\x01sb.")


def _build(add):
    """BUILD on every kind of target with every kind of state."""
    targets = {"list": b"]", "dict": b"}", "int": b"K\x01", "global": GLOB, "record": REC,
               "none": b"N", "str": SU("s"), "bytearray": BA8(b"ab"), "set": b"\x8f"}
    states = {
        "none": b"N", "empty_dict": b"}", "dict": b"}" + SU("a") + b"K\x01s",
        "dict_int_key": b"}K\x01K\x02s", "int": b"K\x05", "zero": b"K\x00",
        "empty_list": b"]", "list": b"]K\x01a", "tuple_none_emptydict": b"N}\x86",
        "tuple_none_dict": b"N}" + SU("a") + b"K\x01s\x86",
        "tuple_dict_dict": b"}" + SU("a") + b"K\x01s}" + SU("b") + b"K\x02s\x86",
        "tuple_none_int": b"NK\x01\x86", "tuple_none_none": b"NN\x86",
        "tuple3": b"NNN\x87",
    }
    for tn, tb in targets.items():
        for sn, sbytes in states.items():
            add("build/%s/%s_state" % (tn, sn), P5 + tb + sbytes + b"b.")
    add("build/record/twice", P5 + REC + b"K\x01bK\x02b.")


def _container_ops(add):
    """APPEND / APPENDS / SETITEM / SETITEMS / ADDITEMS on every target."""
    targets2 = {"list": b"]", "dict": b"}", "set": b"\x8f", "frozenset": b"(\x91",
                "bytearray": BA8(b"ab"), "tuple": b"K\x01\x85", "empty_tuple": b")",
                "int": b"K\x01", "str": SU("s"), "global": GLOB, "record": REC, "none": b"N",
                "bytes": SB(b"b")}
    actions = {
        "append": b"K\x05a", "append_big_int": b"M\x00\x01a", "appends": b"(K\x05K\x06e",
        "appends_empty": b"(e", "setitem": b"K\x00K\x05s", "setitem_1": b"K\x01K\x05s",
        "setitems": b"(K\x00K\x05u", "setitems_empty": b"(u", "additems": b"(K\x05\x90",
        "additems_empty": b"(\x90",
    }
    for tn, tb in targets2.items():
        for an, ab in actions.items():
            add("container_op/%s/%s" % (an, tn), P5 + tb + ab + b".")
    add("container_op/setitem_list_in_range", b"]K\x01aK\x00K\x09s.")
    add("container_op/setitem_list_negative", b"]K\x01aJ\xff\xff\xff\xffK\x09s.")
    add("container_op/setitem_list_slice", P2 + b"]K\x01a" + GL(b"builtins", b"slice") + b".")
    add("container_op/appends_to_list_twice", b"](K\x01e(K\x02e.")
    add("container_op/append_self", b"]q\x00h\x00a.")
    add("container_op/setitem_self_key", b"}q\x00h\x00K\x01s.")
    add("container_op/additems_self", P4 + b"\x8f\x94h\x00(h\x00\x90.")


def _keys(add):
    """dict / set key merging, hashing."""
    add("keys/int_float_bool_merge", b"(K\x01K\x0a" + BF + b"K\x0bI01\nK\x0cd.")
    add("keys/bool_first", P2 + b"}\x88K\x0asK\x01K\x0bs" + BF + b"K\x0cs.")
    add("keys/float_first", b"}" + BF + b"K\x0asK\x01K\x0bs.")
    add("keys/zero_false_negzero", P2 + b"(K\x00K\x01\x89K\x02" + op("BINFLOAT", -0.0) + b"K\x03d.")
    add("keys/nan_twice", b"(Fnan\nK\x01Fnan\nK\x02d.")
    add("keys/nan_shared", b"(Fnan\np0\nK\x01g0\nK\x02d.")
    add("keys/str_vs_bytes", P3 + b"(X\x01\x00\x00\x00aK\x01C\x01aK\x02d.")
    add("keys/tuple_equal", P2 + b"(K\x01\x85K\x01K\x01\x85K\x02d.")
    add("keys/unhashable_list", b"(]K\x01d.")
    add("keys/unhashable_dict", b"}}K\x01s.")
    add("keys/unhashable_set", P4 + b"(\x8fK\x01d.")
    add("keys/unhashable_bytearray", P5 + b"(" + BA8(b"x") + b"K\x01d.")
    add("keys/unhashable_tuple_with_list", P2 + b"(]\x85K\x01d.")
    add("keys/unhashable_in_setitems", b"}(]K\x01u.")
    add("keys/record_keys_distinct", b"(" + REC + b"K\x01" + REC + b"K\x02d.")
    add("keys/global_keys_merge", b"(" + GLOB + b"K\x01" + GLOB + b"K\x02d.")
    add("keys/frozenset_key", P4 + b"((K\x01\x91K\x02d.")
    add("keys/memoryview_key", P5 + b"(" + BA8(b"x") + b"\x98K\x01d.")
    add("keys/readonly_bytes_key", P5 + b"(" + SB(b"x") + b"\x98K\x01d.")
    add("set/merge", P4 + b"\x8f(K\x01" + BF + b"\x88\x90.")
    add("set/unhashable_item", P4 + b"\x8f(]\x90.")
    add("frozenset/merge", P4 + b"(K\x01" + BF + b"\x88\x91.")
    add("frozenset/unhashable_item", P4 + b"(]\x91.")
    add("frozenset/empty", P4 + b"(\x91.")
    add("frozenset/two_empty_shared", P4 + b"(\x91(\x91\x86.")
    add("set/additems_many", P4 + b"\x8f(" + b"".join(K(i) for i in range(50)) + b"\x90.")
    add("dict/later_value_wins", b"(K\x01K\x02K\x01K\x03d.")
    add("dict/setitems_order", b"}(K\x03K\x01K\x01K\x02K\x03K\x04u.")


def _memo(add):
    """The memo: text indices, redefinitions, MEMOIZE after PUTs."""
    add("memo/get_missing_text", b"g5\n.")
    add("memo/binget_missing", b"h\x05.")
    add("memo/long_binget_missing", b"j\x05\x00\x00\x00.")
    add("memo/get_0x10", b"Np16\ng0x10\n.")
    add("memo/get_space", b"Np1\ng 1\n.")
    add("memo/get_negative", b"Np1\ng-1\n.")
    add("memo/get_empty", b"Np1\ng\n.")
    add("memo/put_negative", b"Np-1\n.")
    add("memo/put_0x10", b"Np0x10\n.")
    add("memo/put_empty", b"Np\n.")
    add("memo/put_plus", b"Np+1\ng1\n.")
    add("memo/put_leading_zero", b"Np01\ng1\n.")
    add("memo/put_underscore", b"Np1_0\ng10\n.")
    add("memo/redefine_binput", P2 + b"K\x01q\x00K\x02q\x00h\x00\x86.")
    add("memo/memoize_then_binput_same", P4 + b"K\x01\x94K\x02q\x00h\x00\x86.")
    add("memo/memoize_after_put_5", P4 + b"K\x01q\x05K\x02\x94h\x01\x86.")
    add("memo/memoize_after_put_0_twice", P4 + b"K\x01q\x00K\x02q\x00K\x03\x94h\x01.")
    add("memo/out_of_order", P2 + b"K\x01q\x03K\x02q\x01h\x03h\x01\x86.")
    add("memo/put_does_not_pop", b"K\x01p0\nK\x02t.")
    add("memo/get_list_shared", b"(]p0\ng0\ng0\nt.")
    add("memo/memoize_empty_stack", P4 + b"\x94.")
    add("memo/memoize_after_mark", P4 + b"(\x94.")
    add("memo/long_binget_high_bit", b"Nr\x00\x00\x00\x80j\x00\x00\x00\x80.")
    add("memo/put_mark_top", b"N(p0\n.")


def _ext(add):
    """EXT1 / EXT2 / EXT4 without a registry (and one made in the stream)."""
    add("ext/ext1_zero", P2 + b"\x82\x00.")
    add("ext/ext2_zero", P2 + b"\x83\x00\x00.")
    add("ext/ext4_zero", P2 + b"\x84\x00\x00\x00\x00.")
    add("ext/ext4_negative", P2 + b"\x84\xff\xff\xff\xff.")
    add("ext/ext4_2p31", P2 + b"\x84\x00\x00\x00\x80.")
    add("ext/ext1_unregistered", P2 + b"\x82\x05.")
    add("ext/ext2_unregistered", P2 + b"\x83\xff\xff.")
    add("ext/ext4_unregistered", P2 + b"\x84\xff\xff\xff\x7f.")
    add("ext/after_add_extension_in_stream",
        GL(b"copyreg", b"add_extension") + b"(" + STR0(b"os") + STR0(b"system") + b"K\x01tR0"
        + P2 + b"\x82\x01.")


def _persid(add):
    """Persistent ids: PERSID and BINPERSID."""
    add("persid/nonascii", b"P\xc3\xa9\n.")
    add("persid/empty", b"P\n.")
    add("persid/nul", b"Pa\x00b\n.")
    add("persid/no_newline", b"Pabc")
    add("persid/shared_via_memo", b"(Pabc\np0\ng0\nt.")
    add("persid/then_reduce", b"Pabc\n(K\x01tR.")
    add("binpersid/int", b"K\x05Q.")
    add("binpersid/tuple", P2 + b"K\x01K\x02\x86Q.")
    add("binpersid/record", REC + b"Q.")
    add("binpersid/list_then_append", b"]QK\x01a.")
    add("binpersid/twice_distinct", P2 + b"K\x01QK\x01Q\x86.")


def _buffers(add):
    """Out-of-band buffers: NEXT_BUFFER, READONLY_BUFFER, exports."""
    add("buffer/next_no_buffers", P5 + b"\x97.")
    add("buffer/next_one", P5 + b"\x97.", 1)
    add("buffer/next_two_of_one", P5 + b"\x97\x97\x86.", 1)
    add("buffer/next_two", P5 + b"\x97\x97\x86.", 2)
    add("buffer/next_unused", P5 + b"N.", 3)
    add("buffer/readonly_supplied", P5 + b"\x97\x98.", 1)
    add("buffer/readonly_twice", P5 + b"\x97\x98\x98.", 1)
    add("buffer/readonly_bytes", P5 + SB(b"ab") + b"\x98.")
    add("buffer/readonly_bytearray", P5 + BA8(b"ab") + b"\x98.")
    add("buffer/readonly_bytearray_shared", P5 + BA8(b"ab") + b"\x94\x98h\x00\x86.")
    add("buffer/readonly_int", P5 + b"K\x01\x98.")
    add("buffer/readonly_str", P5 + SU("ab") + b"\x98.")
    add("buffer/readonly_empty_stack", P5 + b"\x98.")
    add("buffer/readonly_after_mark", P5 + b"N(\x98.")
    add("buffer/shared_via_memo", P5 + b"\x97\x94h\x00\x86.", 1)
    add("buffer/append_to_buffer", P5 + b"\x97K\x41a.", 1)
    add("buffer/setitems_on_buffer", P5 + b"\x97(K\x00K\x01u.", 1)
    add("buffer/in_list", P5 + b"](\x97\x97\x98e.", 2)
    # A bytearray cannot grow while a memoryview of it (READONLY_BUFFER's) is alive: CPython
    # raises BufferError, and "alive" is reachable from the stack or the memo.
    BA1 = P5 + BA8(b"a")
    add("buffer/exports/live_view_on_stack", BA1 + b"q\x00\x98h\x00K\x01a.")
    add("buffer/exports/view_popped", BA1 + b"q\x00\x980h\x00K\x01a.")
    add("buffer/exports/view_memoized_then_popped", BA1 + b"q\x00\x98q\x010h\x00K\x01a.")
    add("buffer/exports/view_in_dropped_tuple", BA1 + b"q\x00\x98\x850h\x00K\x01a.")
    add("buffer/exports/view_in_memoized_tuple", BA1 + b"q\x00\x98\x85q\x010h\x00K\x01a.")
    add("buffer/exports/view_memo_slot_overwritten", BA1 + b"q\x00\x98q\x010Nq\x010h\x00K\x01a.")
    add("buffer/exports/appends_two", BA1 + b"q\x00\x98h\x00(K\x01K\x02e.")
    add("buffer/exports/empty_appends", BA1 + b"q\x00\x98h\x00(e.")
    add("buffer/exports/setitem_does_not_resize", BA1 + b"q\x00\x98h\x00K\x00K\x05s.")
    add("buffer/exports/bad_item_before_resize", BA1 + b"q\x00\x98h\x00Na.")
    add("buffer/exports/two_views_one_dropped", BA1 + b"q\x00\x98h\x00\x980h\x00K\x01a.")
    add("buffer/exports/readonly_of_view", BA1 + b"q\x00\x98\x98h\x00K\x01a.")
    add("buffer/exports/view_in_list_in_dict_value", BA1 + b"q\x00}q\x01K\x01](h\x00\x98e\x85sh\x00K\x01a.")
    add("buffer/exports/view_in_dropped_list", BA1 + b"q\x00](h\x00\x98e0h\x00K\x01a.")
    add("buffer/exports/supplied_live", P5 + b"\x97q\x00\x98h\x00K\x01a.", 1)
    add("buffer/exports/supplied_popped", P5 + b"\x97q\x00\x980h\x00K\x01a.", 1)
    add("buffer/exports/supplied_view_other_buffer", P5 + b"\x97q\x00\x97\x98h\x00K\x01a.", 2)
    add("buffer/next_at_proto0", b"\x97.", 1)


def _frames(add):
    """FRAME rules."""
    add("frame/exact", P4 + FR(b"K\x01."))
    add("frame/two_frames", P4 + FR(b"K\x01") + FR(b"K\x02\x86."))
    add("frame/empty", P4 + FR(b"") + b"N.")
    add("frame/stop_outside", P4 + FR(b"K\x01") + b".")
    add("frame/trailing_in_frame", P4 + FR(b"K\x01.K\x02"))
    add("frame/before_proto", FR(b"N."))
    add("frame/at_proto2", P2 + FR(b"N."))
    add("frame/proto_inside", FR(P4 + b"N."))
    add("frame/len_2p63", P4 + FR(b"N.", length=2 ** 63))
    add("frame/truncated_len", P4 + b"\x95\x02\x00\x00")
    add("frame/ends_in_newline_arg", P4 + FR(b"I12") + b"3\n.")
    add("frame/big_binbytes_outside", P4 + FR(b"]\x94") + BB(b"\x00" * 70000)
        + FR(b"a."))


def _confusion(add):
    """Parser confusion: what a scanner may misread."""
    add("confusion/back_to_back", b"N.N.")
    add("confusion/payload_then_garbage", REC + b".\xff\xff\xff")
    add("confusion/garbage_after_stop_in_frame", P4 + FR(b"N.\xff"))
    add("confusion/get_missing_aborts_scan", GLOB + b")Rh\x09.")
    add("confusion/memo_redefined_operands",
        P4 + SU("safe") + b"\x94" + SU("os") + b"q\x00" + SU("system") + b"\x94h\x00h\x01\x93.")
    add("confusion/stack_global_dotted_builtins",
        P4 + SG("builtins", "getattr") + SG("builtins", "__import__") + SU("os") + b"\x85R"
        + SU("system") + b"\x86R.")
    add("confusion/genops_ok_int_0x10", b"I0x10\n.")
    add("confusion/genops_get_0x10", b"Np16\ng0x10\n.")
    add("confusion/dis_redefined_memo", b"Np0\n0Np0\n.")
    add("confusion/dis_nonempty_stack", b"NN.")


def _resource(add):
    """Resource shapes."""
    # (each nesting level costs ~90-120 bytes of output, so 2000-10000 deep: past any
    # recursion limit, well inside the size budget; see docs/sandbox.md "Size budget")
    add("resource/deep_tuple1_10000", b"N" + b"\x85" * 10000 + b".")
    add("resource/deep_lists_mark_5000", b"(" * 5000 + b"l" * 5000 + b".")
    add("resource/deep_lists_append_2000", b"]" * 2000 + b"a" * 1999 + b".")
    add("resource/deep_dicts_2000", b"}" + b"K\x01}" * 1999 + b"s" * 1999 + b".")
    add("resource/marks_10000_stop", b"(" * 10000 + b"N.")
    sh = P2 + b"]q\x00"
    for i in range(40):
        sh += asm(("BINGET", i), ("BINGET", i), "TUPLE2", ("BINPUT", i + 1))
    add("resource/exponential_sharing_40", sh + b".")
    add("resource/binbytes8_2p62", P4 + op("BINBYTES8", b"x", length=2 ** 62) + b".")
    add("resource/binbytes8_2p63", P4 + op("BINBYTES8", b"x", length=2 ** 63) + b".")
    add("resource/long_binput_7fffffff", P2 + b"Nr\xff\xff\xff\x7f.")
    add("resource/long_text_quadratic", b"L" + b"9" * 50000 + b"L\n.")
    add("resource/many_memo_entries", P4 + b"(" + b"N\x94" * 2000 + b"l.")


SECTIONS = [_globals, _calls, _build, _container_ops, _keys, _memo, _ext, _persid, _buffers,
            _frames, _confusion, _resource]
