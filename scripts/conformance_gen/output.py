"""Writing the sets: JSON Lines split into shards, the C-vs-Python difference table, the
size report and its copy in docs/sandbox.md (between DIFF_BEGIN and DIFF_END)."""

import json
import os

from . import REPO

SHARD_BYTES = 4 << 20
DIFF_BEGIN = "<!-- brine-diff-table:begin -->"
DIFF_END = "<!-- brine-diff-table:end -->"


def write_jsonl(path, header, lines):
    """Writes `path` (NAME.jsonl), or, when the lines come to more than SHARD_BYTES, the
    shards NAME-1.jsonl, NAME-2.jsonl... of at most SHARD_BYTES each (bar a single longer
    line), each starting with the header; stale shards of NAME are removed. Readers take
    every shard (brine_sandbox.jsonl_shards)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    import brine_sandbox
    for old in brine_sandbox.jsonl_shards(os.path.dirname(path), os.path.basename(path)[:-len(".jsonl")]):
        os.remove(old)
    shards, size = [[]], 0
    for line in lines:
        if size + len(line) > SHARD_BYTES and shards[-1]:
            shards.append([])
            size = 0
        shards[-1].append(line)
        size += len(line)
    names = [path] if len(shards) == 1 else [path[:-len(".jsonl")] + "-%d.jsonl" % (i + 1) for i in range(len(shards))]
    for name, part in zip(names, shards):
        with open(name, "w", encoding="utf-8") as f:
            f.write(json.dumps(header) + "\n")
            f.writelines(part)



def diff_table(stats):
    rows = {}
    total = 0
    for key, sts in stats.items():
        for ck, pk, same, limit in sts:
            total += 1
            if not same:
                rows.setdefault((ck, pk), {}).setdefault(key, 0)
                rows[(ck, pk)][key] += 1
    files = list(stats)
    out = ["| c | python | " + " | ".join(files) + " | total |",
           "|---|---|" + "---|" * len(files) + "---|"]
    for (ck, pk), per in sorted(rows.items(), key=lambda kv: -sum(kv[1].values())):
        out.append("| %s | %s | %s | %d |" % (ck, pk, " | ".join(str(per.get(f, 0)) for f in files),
                                            sum(per.values())))
    ndiff = sum(sum(v.values()) for v in rows.values())
    return "\n".join(out), ndiff, total


def report(out, counts, stats, update):
    """Prints each set's case count and size and the C-vs-Python table; with `update`, copies
    the table into docs/sandbox.md."""
    import brine_sandbox
    table, ndiff, total = diff_table(stats)
    total_bytes = 0
    for rel, n in counts.items():
        d, stem = os.path.split(os.path.join(out, rel))
        size = sum(os.path.getsize(f) for f in brine_sandbox.jsonl_shards(d, stem[:-len(".jsonl")]))
        total_bytes += size
        print("%-28s %7d cases %8.1f MB" % (rel, n, size / 1e6))
    print("total %.1f MB" % (total_bytes / 1e6))
    limits = sum(1 for sts in stats.values() for st in sts if st[3])
    print("decode cases where C and Python differ (messages ignored): %d of %d; limit cases: %d"
          % (ndiff, total, limits))
    print(table)
    if update:
        update_docs(table, ndiff, total, limits, counts)


def update_docs(table, ndiff, total, limits, counts):
    path = os.path.join(REPO, "docs", "sandbox.md")
    if not os.path.exists(path):
        return
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if DIFF_BEGIN not in text or DIFF_END not in text:
        return
    body = ("\n%d of %d decode cases differ between the C and the Python unpickler (error "
            "messages ignored); %d cases are marked \"limit\". Case counts: %s.\n\n%s\n"
            % (ndiff, total, limits,
               ", ".join("%s %d" % (k, v) for k, v in counts.items()), table))
    a = text.index(DIFF_BEGIN) + len(DIFF_BEGIN)
    b = text.index(DIFF_END)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text[:a] + body + text[b:])
