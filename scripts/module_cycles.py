#!/usr/bin/env python3
"""Fails when two modules of one crate import each other, directly or round a longer loop.

Usage: module_cycles.py <crate src dir>...

Each file is a module (`a/mod.rs` and `a.rs` are `a`). An edge `a -> b` is any path in `a` that
names `b` (`use super::b::X`, `crate::b::f()`, `super::{b, c}`), including paths through a
re-export (`crate::X` where the crate root says `pub use b::X`). Edges to a module's own ancestors
are left out: a parent declares its children, and a child reaching its parent's own items is the
usual Rust layout. A crate's `#[cfg(test)]` modules are left out too: tests may reach anywhere.
"""

import re
import sys
from pathlib import Path

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def modules(src: Path) -> dict:
    found = {}
    for file in src.rglob("*.rs"):
        parts = list(file.relative_to(src).with_suffix("").parts)
        if parts[-1] in ("lib", "main") and len(parts) == 1:
            parts = []
        elif parts[-1] == "mod":
            parts = parts[:-1]
        found[tuple(parts)] = file
    return found


def code_of(file: Path) -> str:
    text = file.read_text()
    text = re.sub(r"//[^\n]*", "", text)
    text = re.sub(r'r#*"(?:.|\n)*?"#*|"(?:\\.|[^"\\])*"', '""', text)
    # The file's test module: from `#[cfg(test)]` on a `mod` to the end, as the house style has it
    # (a `#[cfg(test)]` on a single function leaves the rest of the file in).
    found = re.search(r"#\[cfg\(test\)\]\s*(pub(\([a-z]+\))?\s+)?mod\s", text)
    return text if found is None else text[: found.start()]


def expand(tree: str) -> list:
    """`a::{b, c::{d, e}}` -> [a::b, a::c::d, a::c::e]"""
    tree = re.sub(r"\s+", "", tree)
    start = tree.find("{")
    if start < 0:
        return [tree]
    prefix, depth, parts, current = tree[:start], 0, [], ""
    for char in tree[start + 1 : tree.rfind("}")]:
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        depth += char == "{"
        depth -= char == "}"
        current += char
    parts.append(current)
    return [path for part in parts if part for path in expand(prefix + part)]


def paths_in(code: str) -> list:
    found = []
    for tree in re.findall(r"\buse\s+([^;]+);", code):
        found += expand(tree)
    code = re.sub(r"\buse\s+[^;]+;", "", code)
    found += re.findall(rf"\b(?:crate|super|self)(?:::{IDENT})+", code)
    return found


def reexports(mods: dict) -> dict:
    """(module, item) -> the module the item comes from, for `pub use x::Item` lines."""
    table = {}
    for module, file in mods.items():
        for tree in re.findall(r"\bpub\s+use\s+([^;]+);", code_of(file)):
            for path in expand(tree):
                segments = path.split("::")
                origin = list(module) if segments[0] in ("self", "super") else []
                if segments[0] == "super":
                    origin = origin[:-1]
                segments = [s for s in segments if s not in ("self", "super", "crate")]
                table[(module, segments[-1].split(" as ")[-1])] = tuple(origin + segments[:-1])
    return table


def resolve(module: tuple, path: str, mods: dict, table: dict):
    segments = path.split("::")
    if segments[0] == "crate":
        at, segments = (), segments[1:]
    elif segments[0] in ("super", "self"):
        at = module
        while segments and segments[0] in ("super", "self"):
            at = at[:-1] if segments[0] == "super" else at
            segments = segments[1:]
    else:
        return None  # another crate or the standard library
    for segment in segments:
        if at + (segment,) in mods:
            at = at + (segment,)
        elif (at, segment) in table and table[(at, segment)] in mods:
            return table[(at, segment)]
        else:
            break
    return at


def cycles(src: Path) -> list:
    mods = modules(src)
    table = reexports(mods)
    edges = {module: set() for module in mods}
    for module, file in mods.items():
        for path in paths_in(code_of(file)):
            target = resolve(module, path, mods, table)
            if target is None or target == module or module[: len(target)] == target:
                continue
            edges[module].add(target)
    found, state = [], {}

    def visit(node, trail):
        state[node] = "open"
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                found.append(trail[trail.index(nxt) :] + [nxt])
            elif nxt not in state:
                visit(nxt, trail + [nxt])
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node, [node])
    return found


def main() -> int:
    failed = False
    for src in map(Path, sys.argv[1:]):
        for loop in cycles(src):
            failed = True
            names = " -> ".join("::".join(m) or "(root)" for m in loop)
            print(f"module cycle in {src}: {names}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
