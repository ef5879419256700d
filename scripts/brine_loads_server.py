#!/usr/bin/python3.11
"""CPython's C unpickler as a long-lived helper for `brine check-impl --encoder`.

    /usr/bin/python3.11 scripts/brine_loads_server.py

Reads one line per pickle (lowercase hex) on stdin and answers one line of pickle JSON: what
brine_sandbox.loads_c builds from it (nothing imported or executed), or its error node. Each
load runs under a 10 s alarm, and the process under a 3 GiB address-space limit, as the corpus
generator does. Standard library only.
"""
import os
import resource
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import brine_sandbox as sb  # noqa: E402


def serve():
    out = sys.stdout
    for line in sys.stdin:
        line = line.strip()
        try:
            data = bytes.fromhex(line)
        except ValueError as e:
            node = {"t": "error", "type": "BadRequest", "message": str(e)}
        else:
            node = sb.loads_c(data, 0, timeout=10)
        out.write(sb.dumps_json(node) + "\n")
        out.flush()


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_AS, (3 * 1024 ** 3, resource.RLIM_INFINITY))
    # The alarm needs the main thread; deep documents need a big stack only for json, which
    # dumps_json handles iteratively, so serve on the main thread.
    serve()
