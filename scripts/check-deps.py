#!/usr/bin/env python3
"""Checks the layering rules of docs/architecture.md on a build of libn4d.

usage: check-deps.py SRC_DIR OBJECT_FILE...

1. No cycle between source files: file A depends on file B when the code
   (text sections) of A's object calls or takes the address of a function or
   object defined in B's object. References from data sections (ops tables,
   registry entries) are the vtables through which the lower layers are
   reached, and do not count.
2. No include cycle between the headers of SRC_DIR.
3. The core (src/core) never names a module's or a backend's symbol: it
   reaches them only through the registry and hooks. The one exception is
   the registry's list of built-in entries (n4d__builtin_backends), a
   table the backend layer fills.
Exits 1 and prints every violation.
"""
import os
import re
import subprocess
import sys
from collections import defaultdict


# backend-layer symbols the core may reference (see 3. above)
ALLOWED_CORE_REFS = {"n4d__builtin_backends"}


def objdump_relocs(obj):
    """{section: [symbol, ...]} of relocations, and the defined symbols."""
    out = subprocess.run(["objdump", "-r", obj], capture_output=True, text=True, check=True).stdout
    relocs = defaultdict(list)
    section = None
    for line in out.splitlines():
        m = re.match(r"RELOCATION RECORDS FOR \[(.*)\]:", line)
        if m:
            section = m.group(1)
            continue
        parts = line.split()
        if section and len(parts) >= 3 and re.match(r"^[0-9a-f]+$", parts[0]):
            sym = re.split(r"[-+]0x", parts[2])[0]
            relocs[section].append(sym)
    nm = subprocess.run(["nm", "--defined-only", obj], capture_output=True, text=True, check=True).stdout
    defined = set()
    for line in nm.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRVWtdbr" and parts[1].isupper():
            defined.add(parts[2])
    return relocs, defined


def source_name(obj):
    base = os.path.basename(obj)
    return base[:-2] if base.endswith(".o") else base


def find_cycles(graph):
    """Strongly connected components with more than one node."""
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    src = sys.argv[1]
    # CMake passes $<TARGET_OBJECTS:...> as one ';'-separated argument
    objs = [o for arg in sys.argv[2:] for o in arg.split(";") if o]
    errors = []

    # where each source file lives (core / modules / backend / cli)
    layer = {}
    for root, _, files in os.walk(src):
        for f in files:
            if f.endswith(".c"):
                layer[f] = os.path.basename(root)

    owner, text_refs = {}, {}
    for obj in objs:
        name = source_name(obj)
        relocs, defined = objdump_relocs(obj)
        for d in defined:
            owner.setdefault(d, name)
        refs = set()
        for sec, syms in relocs.items():
            if sec.startswith(".rela.text") or sec == ".text" or sec.startswith(".text"):
                refs.update(syms)
        text_refs[name] = refs

    graph = defaultdict(set)
    for name, refs in text_refs.items():
        for sym in refs:
            o = owner.get(sym)
            if o and o != name:
                graph[name].add(o)
    for comp in find_cycles(graph):
        errors.append("call cycle between source files: " + " <-> ".join(comp))

    # the core names no module or backend symbol
    for name in sorted(graph):
        if layer.get(name) != "core":
            continue
        for dep in sorted(graph[name]):
            if layer.get(dep) in ("modules", "backend"):
                syms = sorted(s for s in text_refs[name]
                              if owner.get(s) == dep and s not in ALLOWED_CORE_REFS)
                if not syms:
                    continue
                errors.append(f"core file {name} calls the {layer[dep]} file {dep}: {', '.join(syms)}")

    # header include cycles
    inc = defaultdict(set)
    headers = {}
    for root, _, files in os.walk(src):
        for f in files:
            if f.endswith(".h"):
                headers[f] = os.path.join(root, f)
    for f, path in headers.items():
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                m = re.match(r'\s*#\s*include\s+"([^"]+)"', line)
                if m and os.path.basename(m.group(1)) in headers:
                    inc[f].add(os.path.basename(m.group(1)))
    for comp in find_cycles(inc):
        errors.append("include cycle between headers: " + " <-> ".join(comp))

    for e in errors:
        print("check-deps: " + e)
    print(f"check-deps: {len(objs)} objects, {sum(len(v) for v in graph.values())} file dependencies, "
          f"{len(errors)} violation(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
