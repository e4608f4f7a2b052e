#!/usr/bin/env python3
"""Checks that every target declares each module its files import (Package.swift).

A module reached only through another target's dependencies builds today and breaks when
that target drops it; and the dependency graph in Package.swift is only true if it is
complete. System modules (Glibc, Foundation*, Synchronization, Testing...) are exempt.
Usage: scripts/lib/check-imports.py [PACKAGE_DUMP_JSON]  (default: runs swift package dump-package)
"""
import json, os, re, subprocess, sys

SYSTEM = {"Glibc", "Musl", "Darwin", "Foundation", "FoundationEssentials", "FoundationNetworking",
          "Synchronization", "Dispatch", "Testing", "XCTest", "_Concurrency", "Observation"}

dump = json.load(open(sys.argv[1])) if len(sys.argv) > 1 else json.loads(
    subprocess.run(["swift", "package", "dump-package"], check=True, capture_output=True, text=True).stdout)
root = os.getcwd()
products = {}  # product name -> module names it provides (for .product dependencies)
problems = []
for target in dump["targets"]:
    name = target["name"]
    if target["type"] == "system":
        continue
    default = "Tests" if target["type"] == "test" else "Sources"
    path = target.get("path") or os.path.join(default, name)
    declared = set()
    for dependency in target["dependencies"]:
        kind, value = next(iter(dependency.items()))
        declared.add(value[0].replace("-", "_"))
    imports = {}
    for directory, _, files in os.walk(os.path.join(root, path)):
        for file in files:
            if not file.endswith(".swift"):
                continue
            for line in open(os.path.join(directory, file), encoding="utf-8"):
                match = re.match(r"^\s*(?:@testable\s+|@_spi\(\w+\)\s+|package\s+|public\s+|internal\s+)*import\s+(?:struct\s+|enum\s+|class\s+|func\s+)?(\w+)", line)
                if match:
                    imports.setdefault(match.group(1), os.path.relpath(os.path.join(directory, file), root))
    for module, file in sorted(imports.items()):
        if module in SYSTEM or module in declared or module == name.replace("-", "_"):
            continue
        problems.append(f"{name}: {file} imports {module}, which the target does not declare")

if problems:
    print("Package.swift: undeclared imports:", *problems, sep="\n  ", file=sys.stderr)
    sys.exit(1)
print("every target declares each module it imports")
