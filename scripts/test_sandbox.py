"""Self-test of scripts/brine_sandbox.py: hostile pickles must not run anything.

Run: /usr/bin/python3.11 scripts/test_sandbox.py   (exit status 0 when every check passes)

Every payload tries to create a canary file (or remove a directory). Through loads_c,
loads_py and globals_c the canary must never appear, the result must be the expected
symbolic node, and globals_c must list the find_class calls the payload makes.
A subprocess then loads the same payloads with CPython's default find_class and checks that
each one WOULD have created its canary, which proves the payloads (and so this test) work.
"""

import builtins
import copyreg
import json
import os
import pickle
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import brine_sandbox as sb  # noqa: E402
from opcode_layout import op  # noqa: E402

passed = 0
failed = 0
CPYTHON = sys.implementation.name == "cpython"
# Warm-up: PyPy imports stdlib codecs (encodings.ascii) lazily at its first text load, which
# the sys.modules checks below would take for a leak.
for _warm in (sb.loads_c, sb.loads_py):
    _warm(b"S'a'\nX\x01\x00\x00\x00b\x86.")


def check(cond, what):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print("FAIL:", what)


def S(s):
    """protocol 0 STRING argument line"""
    return b"S'" + s.encode() + b"'\n"


def U(s):
    """SHORT_BINUNICODE"""
    b = s.encode()
    return b"\x8c" + bytes([len(b)]) + b


def G(mod, name):
    return {"t": "global", "module": mod, "name": name}


def STR(s):
    return {"t": "str", "v": s}


def call(f, *args, ops=()):
    return {"t": "object", "new": {"call": f, "args": list(args)}, "ops": list(ops)}


def payloads(tmp):
    """(name, pickle bytes, check path, 'create'|'remove', expected node, ext code or None)"""
    out = []
    n = [0]

    def canary():
        n[0] += 1
        return os.path.join(tmp, "CANARY%d" % n[0])

    # GLOBAL + REDUCE, protocol 0
    c = canary()
    out.append(("os.system", b"cos\nsystem\n(" + S("touch " + c) + b"tR.", c, "create",
                call(G("os", "system"), STR("touch " + c)), None))
    c = canary()
    out.append(("posix.system", b"cposix\nsystem\n(" + S("touch " + c) + b"tR.", c, "create",
                call(G("posix", "system"), STR("touch " + c)), None))
    c = canary()
    src = "open(%r, 'w').close()" % c
    out.append(("builtins.eval", b"cbuiltins\neval\n(" + S(src) + b"tR.", c, "create",
                call(G("builtins", "eval"), STR(src)), None))
    c = canary()
    src = "import os; os.system('touch %s')" % c
    out.append(("builtins.exec", b"cbuiltins\nexec\n(" + S(src) + b"tR.", c, "create",
                call(G("builtins", "exec"), STR(src)), None))
    # protocol 2 name mapping: __builtin__.eval -> builtins.eval
    c = canary()
    src = "open(%r, 'w').close()" % c
    out.append(("__builtin__.eval/p2", b"\x80\x02c__builtin__\neval\n" + U(src) + b"\x85R.",
                c, "create", call(G("builtins", "eval"), STR(src)), None))
    c = canary()
    out.append(("subprocess.Popen",
                b"csubprocess\nPopen\n((" + S("touch") + S(c) + b"ltR.", c, "create",
                call(G("subprocess", "Popen"),
                     {"t": "list", "items": [STR("touch"), STR(c)]}), None))
    d = os.path.join(tmp, "KEEPME")
    os.mkdir(d)
    out.append(("shutil.rmtree", b"cshutil\nrmtree\n(" + S(d) + b"tR.", d, "remove",
                call(G("shutil", "rmtree"), STR(d)), None))
    # STACK_GLOBAL + REDUCE, protocol 4
    c = canary()
    out.append(("stack_global.os.system",
                b"\x80\x04" + U("os") + U("system") + b"\x93" + U("touch " + c) + b"\x85R.",
                c, "create", call(G("os", "system"), STR("touch " + c)), None))
    # INST, OBJ
    c = canary()
    out.append(("inst.os.system", b"(" + S("touch " + c) + b"ios\nsystem\n.", c, "create",
                call(G("os", "system"), STR("touch " + c)), None))
    c = canary()
    out.append(("obj.os.system", b"(cos\nsystem\n" + S("touch " + c) + b"o.", c, "create",
                call(G("os", "system"), STR("touch " + c)), None))
    # BUILD: give an instance a __setstate__ attribute, then BUILD again to call it
    c = canary()
    state_then_call = (b"}" + S("__setstate__") + b"cos\nsystem\nsb" + S("touch " + c) + b"b.")
    ns_ops = [{"op": "build", "state": {"t": "dict", "items": [[STR("__setstate__"),
                                                                   G("os", "system")]]}},
              {"op": "build", "state": STR("touch " + c)}]
    out.append(("build.setstate", b"cargparse\nNamespace\n)R" + state_then_call, c, "create",
                call(G("argparse", "Namespace"), ops=ns_ops), None))
    # NEWOBJ / NEWOBJ_EX make the instance, then the same BUILD trick
    c = canary()
    state_then_call = (b"}" + S("__setstate__") + b"cos\nsystem\nsb" + S("touch " + c) + b"b.")
    ns_ops = [{"op": "build", "state": {"t": "dict", "items": [[STR("__setstate__"),
                                                                   G("os", "system")]]}},
              {"op": "build", "state": STR("touch " + c)}]
    out.append(("newobj.build", b"\x80\x02cargparse\nNamespace\n)\x81" + state_then_call, c,
                "create", {"t": "object", "new": {"newobj": G("argparse", "Namespace"),
                                                  "args": []}, "ops": ns_ops}, None))
    c = canary()
    state_then_call = (b"}" + S("__setstate__") + b"cos\nsystem\nsb" + S("touch " + c) + b"b.")
    ns_ops = [{"op": "build", "state": {"t": "dict", "items": [[STR("__setstate__"),
                                                                   G("os", "system")]]}},
              {"op": "build", "state": STR("touch " + c)}]
    out.append(("newobj_ex.build",
                b"\x80\x04" + U("argparse") + U("Namespace") + b"\x93)}\x92" + state_then_call,
                c, "create", {"t": "object", "new": {"newobj": G("argparse", "Namespace"),
                                                     "args": []}, "ops": ns_ops}, None))
    # EXT1 after copyreg.add_extension('os', 'system', code)
    c = canary()
    out.append(("ext1.os.system", b"\x80\x02\x82\xf0" + U("touch " + c) + b"\x85R.", c, "create",
                call(G("os", "system"), STR("touch " + c)), 0xf0))
    c = canary()
    out.append(("ext2.os.system", b"\x80\x02\x83\xf1\x01" + U("touch " + c) + b"\x85R.", c,
                "create", call(G("os", "system"), STR("touch " + c)), 0x1f1))
    # PERSID / BINPERSID: the pid goes to os.system (harmful where persistent_load returns it)
    c = canary()
    out.append(("persid", b"cos\nsystem\n(Ptouch " + c.encode() + b"\ntR.", c, "create",
                call(G("os", "system"), {"t": "object", "new": {"persid": STR("touch " + c)},
                                         "ops": []}), None))
    c = canary()
    out.append(("binpersid", b"\x80\x02cos\nsystem\n" + U("touch " + c) + b"Q\x85R.", c,
                "create", call(G("os", "system"),
                               {"t": "object", "new": {"persid": STR("touch " + c)},
                                "ops": []}), None))
    return out


# find_class calls (as an override receives them: before fix_imports) per payload
EXPECTED_CALLS = {
    "os.system": [("os", "system")],
    "posix.system": [("posix", "system")],
    "builtins.eval": [("builtins", "eval")],
    "builtins.exec": [("builtins", "exec")],
    "__builtin__.eval/p2": [("__builtin__", "eval")],
    "subprocess.Popen": [("subprocess", "Popen")],
    "shutil.rmtree": [("shutil", "rmtree")],
    "stack_global.os.system": [("os", "system")],
    "inst.os.system": [("os", "system")],
    "obj.os.system": [("os", "system")],
    "build.setstate": [("argparse", "Namespace"), ("os", "system")],
    "newobj.build": [("argparse", "Namespace"), ("os", "system")],
    "newobj_ex.build": [("argparse", "Namespace"), ("os", "system")],
    "ext1.os.system": [("os", "system")],
    "ext2.os.system": [("os", "system")],
    "persid": [("os", "system")],
    "binpersid": [("os", "system")],
}


def run_globals(tmp):
    """globals_c on every payload: nothing runs or is imported, the calls are listed, and
    the extension registry is exactly the one passed (the process's is left alone)."""
    tmp = os.path.join(tmp, "globals")  # payloads() makes its KEEPME directory afresh
    os.mkdir(tmp)
    for name, data, path, kind, expected, ext in payloads(tmp):
        extensions = [("os", "system", ext)] if ext is not None else []
        modules_before = dict(sys.modules)
        import_before = builtins.__import__
        registry_before = (dict(copyreg._inverted_registry), dict(copyreg._extension_registry))
        calls, error = sb.globals_c(data, extensions=extensions)
        check(not triggered(path, kind), "%s/globals_c: canary %s" % (name, path))
        check(error is None, "%s/globals_c: error %s" % (name, error))
        check(calls == EXPECTED_CALLS[name], "%s/globals_c: calls %r" % (name, calls))
        check(builtins.__import__ is import_before, "%s/globals_c: __import__ restored" % name)
        check(sys.modules == modules_before, "%s/globals_c: sys.modules restored" % name)
        check(not copyreg._extension_cache, "%s/globals_c: extension cache empty" % name)
        check((copyreg._inverted_registry, copyreg._extension_registry) == registry_before,
              "%s/globals_c: registry restored" % name)
    # A code the process registered is not visible: the registry is exactly the one passed.
    copyreg.add_extension("os", "system", 0xf0)
    try:
        calls, error = sb.globals_c(b"\x80\x02\x82\xf0.")
        check(calls == [] and error.get("type") == "ValueError",
              "globals_c saw the process registry: %r %r" % (calls, error))
        check(copyreg._inverted_registry.get(0xf0) == ("os", "system"),
              "globals_c dropped the process registry")
    finally:
        copyreg.remove_extension("os", "system", 0xf0)
    # A bad registry is the caller's error, raised before loading.
    for bad in ([("os", "system", 0)], [("os", 1, 5)], [("a", "b", 5), ("c", "d", 5)]):
        try:
            sb.globals_c(b"N.", extensions=bad)
            check(False, "bad registry %r accepted" % (bad,))
        except (TypeError, ValueError):
            check(copyreg._inverted_registry == {}, "bad registry %r left behind" % (bad,))


def triggered(path, kind):
    return os.path.exists(path) if kind == "create" else not os.path.exists(path)


def run_sandboxed(tmp):
    items = payloads(tmp)
    for name, data, path, kind, expected, ext in items:
        for engine, loads in (("c", sb.loads_c), ("python", sb.loads_py)):
            if ext is not None:
                copyreg.add_extension("os", "system", ext)
            modules_before = dict(sys.modules)
            import_before = builtins.__import__
            try:
                got = loads(data)
            finally:
                if ext is not None:
                    copyreg.remove_extension("os", "system", ext)
            check(not triggered(path, kind), "%s/%s: canary %s" % (name, engine, path))
            check(got == expected, "%s/%s: got %s" % (name, engine, json.dumps(got)))
            check(builtins.__import__ is import_before, "%s/%s: __import__ restored"
                  % (name, engine))
            check(sys.modules == modules_before, "%s/%s: sys.modules restored" % (name, engine))
            check(not copyreg._extension_cache, "%s/%s: extension cache empty" % (name, engine))


def run_not_imported():
    for mod in ("this", "antigravity", "tkinter", "turtle"):
        if mod in sys.modules:
            continue
        for engine, loads in (("c", sb.loads_c), ("python", sb.loads_py)):
            for data in (b"c" + mod.encode() + b"\nx\n.",
                         b"\x80\x04" + U(mod) + U("a.b") + b"\x93.",
                         b"c" + mod.encode() + b".sub\nx\n)R."):
                got = loads(data)
                check(got.get("t") in ("global", "object"), "%s %s %r: %s"
                      % (mod, engine, data, got))
                check(mod not in sys.modules and mod + ".sub" not in sys.modules,
                      "%s was imported by %s" % (mod, engine))
        for data, want in ((b"c" + mod.encode() + b"\nx\n.", [(mod, "x")]),
                           (b"\x80\x04" + U(mod) + U("a.b") + b"\x93.", [(mod, "a.b")]),
                           (b"(i" + mod.encode() + b"\nx\n.", [(mod, "x")])):
            calls, error = sb.globals_c(data)
            check(calls == want and error is None, "%s globals_c %r: %r %r"
                  % (mod, data, calls, error))
            check(mod not in sys.modules, "%s was imported by globals_c" % mod)


def run_misc():
    # the real module objects stay in place when a pickle names them
    real_os = sys.modules["os"]
    sb.loads_c(b"cos\nsystem\n.")
    check(sys.modules["os"] is real_os, "os restored")
    # two equal globals are one object: they merge as dict keys
    got = sb.loads_c(b"(cos\nsystem\nK\x01cos\nsystem\nK\x02d.")
    check(got == {"t": "dict", "items": [[G("os", "system"), {"t": "int", "v": "2"}]]},
          "equal globals merge: %s" % got)
    # BUILD with a dict state on a global fails as on a real class
    got = sb.loads_c(b"cos\nsystem\n}S'a'\nK\x01sb.")
    # (PyPy's _pickle accepts it: its BUILD does not go through the class's __dict__.)
    check(got.get("type") == "TypeError" or CPYTHON is False, "BUILD on a global: %s" % got)
    got = sb.loads_py(b"cos\nsystem\nN}S'a'\nK\x01s\x86b.")
    check(got.get("type") == "AttributeError", "slot state on a global: %s" % got)
    # loads_c takes the paths pickle.loads takes (string input), also around FRAMEs
    frame = lambda n: op("FRAME", n)   # a FRAME declaring n bytes
    for data in (b"\x80\x04" + frame(3) + b"\x8c\x03a" + b"bc.",
                 b"\x80\x04" + frame(4) + b"K\x01" + frame(2) + b"\x85.",
                 b"\x80\x04" + frame(100) + b"K\x01.",
                 b"\x80\x03C\x00", b"X\x05\x00\x00\x00ab", b"I12", b"]K\x01a."):
        try:
            ref = sb.to_json(pickle.loads(data))
        except Exception as e:
            ref = {"t": "error", "type": type(e).__name__}
        got = sb.loads_c(data)
        got.pop("message", None)
        check(got == ref, "loads_c vs pickle.loads on %r: %s vs %s" % (data, got, ref))
    # timeouts become error nodes of type "Timeout" (a slow stand-in call simulates a slow load)
    import time
    real_call = sb.Record.__call__

    def slow_call(self, *args):
        time.sleep(3)
        return real_call(self, *args)

    sb.Record.__call__ = slow_call
    try:
        # PyPy's _pickle is left broken by an exception raised from a signal handler during
        # a load (its next loads fail with "pickle data was truncated"): its loads_c is not
        # timed out here (brine's harness kills and restarts a slow adapter instead).
        for loads in (sb.loads_c, sb.loads_py) if CPYTHON else (sb.loads_py,):
            t0 = time.time()
            got = loads(b"cm\nf\n)R)R.", timeout=0.5)
            check(got.get("type") == "Timeout" and time.time() - t0 < 2.5,
                  "timeout: %s" % got)
    finally:
        sb.Record.__call__ = real_call
    check(sb.loads_c(b"cm\nf\n)R)R.", timeout=5).get("t") == "object", "no timeout")


UNSANDBOXED = r'''
import copyreg, io, os, pickle, sys, json
items = json.loads(sys.stdin.read())
results = []
for name, hexdata, path, kind, ext, engine in items:
    data = bytes.fromhex(hexdata)
    base = pickle.Unpickler if engine == "c" else pickle._Unpickler
    class U(base):
        def persistent_load(self, pid):
            return pid
    if ext is not None:
        copyreg.add_extension("os", "system", ext)
    try:
        r = U(io.BytesIO(data)).load()
        if hasattr(r, "wait"):
            r.wait()
    except Exception as e:
        pass
    finally:
        if ext is not None:
            copyreg.remove_extension("os", "system", ext)
            copyreg.clear_extension_cache()
    hit = os.path.exists(path) if kind == "create" else not os.path.exists(path)
    results.append([name, engine, hit])
    if kind == "create" and os.path.exists(path):
        os.remove(path)
    if kind == "remove" and not os.path.exists(path):
        os.mkdir(path)
print(json.dumps(results))
'''


def run_unsandboxed_proof(tmp):
    items = payloads(tmp)
    req = [[name, data.hex(), path, kind, ext, engine]
           for name, data, path, kind, expected, ext in items for engine in ("c", "python")]
    proc = subprocess.run([sys.executable, "-c", UNSANDBOXED], input=json.dumps(req),
                          capture_output=True, text=True, cwd=tmp, timeout=120)
    check(proc.returncode == 0, "unsandboxed subprocess failed: %s" % proc.stderr[-2000:])
    if proc.returncode != 0:
        return
    for name, engine, hit in json.loads(proc.stdout.strip().splitlines()[-1]):
        check(hit, "unsandboxed %s/%s did NOT trigger: the payload is not a real one"
              % (name, engine))


def run_pooled_classes():
    """Stand-in classes are reused from load to load (StandIns' pool): within a load one
    global is one class and two globals are two; an earlier load's result still converts
    to its own globals after later loads have taken its classes."""
    def gl(mod, name):
        return op("GLOBAL", (mod.encode(), name.encode()))
    two = b"\x80\x02" + gl("os", "system") + gl("os", "getcwd") + gl("os", "system") + b"\x87."
    first, first_standins = sb.loads_c_raw(two, 0)
    check(first[0] is first[2] and first[0] is not first[1], "pool: one class per global in a load")
    for _ in range(3):
        later, later_standins = sb.loads_c_raw(b"\x80\x02" + gl("shutil", "rmtree") + gl("sys", "exit") + b"\x86.", 0)
    reused = set(map(id, later)) & set(map(id, first))
    check(len(reused) == 2, "pool: later loads reuse the classes (%d reused)" % len(reused))
    doc = sb.to_json(first, first_standins)
    names = [(n.get("module"), n.get("name")) for n in doc["items"]]
    check(names == [("os", "system"), ("os", "getcwd"), ("os", "system")], "pool: the first result still converts: %r" % names)
    doc = sb.to_json(later, later_standins)
    names = [(n.get("module"), n.get("name")) for n in doc["items"]]
    check(names == [("shutil", "rmtree"), ("sys", "exit")], "pool: the last result converts: %r" % names)


def main():
    with tempfile.TemporaryDirectory(prefix="brine-sandbox-") as tmp:
        old = os.getcwd()
        os.chdir(tmp)
        try:
            run_sandboxed(tmp)
            run_globals(tmp)
            run_not_imported()
            run_misc()
            run_pooled_classes()
            leftovers = [f for f in os.listdir(tmp) if f.startswith("CANARY")]
            check(not leftovers, "canaries left: %s" % leftovers)
        finally:
            os.chdir(old)
    with tempfile.TemporaryDirectory(prefix="brine-sandbox-proof-") as tmp:
        run_unsandboxed_proof(tmp)
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
