#!/usr/bin/python3.11
"""Which globals CPython's C unpickler resolves in pickle-smith's HiddenGlobal files.

Reads JSON lines on stdin, one file each:
    {"hex": "8004...", "target": [module, name], "ext": [[module, name, code], ...],
     "buffers": k or null, "tail": true if a second pickle follows the first STOP}
and writes one JSON line per file:
    {"loads": R, "bytesio": R, "tail": R or null}
where R = {"ok": bool, "error": "Type: message" or null, "calls": [[module, name], ...],
           "resolved": whether find_class got the target, "stop": offset after STOP or null}.

"loads" is what pickle.loads does: the C unpickler over a reader that holds the whole file
(peek hands it everything at once, as loads' in-memory input does). "bytesio" is the same
unpickler over a bare io.BytesIO, which has no peek (torch.load reads its data.pkl that
way); it differs when a frame's declared length ends inside an op. "tail" loads, with a
new unpickler, what follows the first STOP.

Nothing named in a pickle is ever imported or called: find_class records (module, name)
exactly as the unpickler passes them (before any fix_imports mapping, which the default
find_class would do) and returns a stand-in class; persistent ids load as stand-ins too.
The extension registry is filled (copyreg.add_extension) before each load and emptied
after, which also drops copyreg's cache of what each code resolved to (with the cache
warm, the unpickler does not call find_class for an EXT code again).

Standard library only. Run with /usr/bin/python3.11.
"""

import _pickle
import copyreg
import io
import json
import pickle
import sys
import warnings

assert pickle.Unpickler is _pickle.Unpickler, "the C unpickler is needed"


class StandIn:
    """What every global resolves to: takes any arguments and any state, does nothing."""

    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return StandIn()

    def __setstate__(self, state):
        pass

    def __setitem__(self, key, value):
        pass

    def append(self, item):
        pass

    def extend(self, items):
        pass

    def add(self, item):
        pass


class Recorder(pickle.Unpickler):
    """The C unpickler, recording find_class calls instead of importing anything."""

    def __init__(self, file, calls, **kwargs):
        super().__init__(file, **kwargs)
        self.calls = calls

    def find_class(self, module, name):
        self.calls.append([module, name])
        return StandIn

    def persistent_load(self, pid):
        return StandIn()


def load(data, start, target, buffers, peek):
    calls = []
    raw = io.BytesIO(data)
    raw.seek(start)
    f = io.BufferedReader(raw, buffer_size=max(len(data), 1)) if peek else raw
    bufs = None if buffers is None else [bytearray() for _ in range(buffers)]
    result = {"ok": True, "error": None, "stop": None}
    try:
        Recorder(f, calls, buffers=bufs).load()
        result["stop"] = f.tell()
    except Exception as e:  # noqa: BLE001 - every failure is an outcome to report
        result["ok"] = False
        result["error"] = f"{type(e).__name__}: {e}"
    result["calls"] = calls
    result["resolved"] = list(target) in calls
    return result


def registered(exts, thunk):
    """Runs thunk with exts in copyreg's extension registry, and only then (removing an
    extension also drops the cached object its code resolved to)."""
    added = []
    try:
        for module, name, code in exts:
            copyreg.add_extension(module, name, code)
            added.append((module, name, code))
        return thunk()
    finally:
        for module, name, code in added:
            copyreg.remove_extension(module, name, code)


def run(case):
    data = bytes.fromhex(case["hex"])
    target = case["target"]
    buffers = case.get("buffers")
    exts = [tuple(e) for e in case.get("ext", [])]

    def mode(start, peek):
        return registered(exts, lambda: load(data, start, target, buffers, peek))

    first = mode(0, True)
    tail = None
    if case.get("tail") and first["ok"]:
        tail = mode(first["stop"], True)
    return {"loads": first, "bytesio": mode(0, False), "tail": tail}


def main():
    warnings.simplefilter("ignore")
    for line in sys.stdin:
        if line.strip():
            print(json.dumps(run(json.loads(line))), flush=False)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
