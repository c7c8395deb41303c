#!/usr/bin/env python3
"""Loads every manifest under DIR with PyYAML's libyaml-backed CSafeLoader and
prints one JSON line in the same shape as Capstan's manifest-load driver."""
import json
import os
import resource
import sys
import time

import yaml

root = sys.argv[1]
paths = sorted(
    os.path.join(folder, name)
    for folder, _, names in os.walk(root)
    for name in names
    if name.endswith((".yaml", ".yml", ".json"))
)
contents = [open(path, "rb").read() for path in paths]
start = time.perf_counter()
objects = []
for content in contents:
    # Documents are kept, as Capstan keeps its loaded objects.
    objects.extend(document for document in yaml.load_all(content, Loader=yaml.CSafeLoader) if document is not None)
seconds = time.perf_counter() - start
print(json.dumps({
    "objects": len(objects),
    "bytes": sum(len(c) for c in contents),
    "seconds": seconds,
    "objectsPerSecond": len(objects) / seconds,
    "peakRSSKiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
}))
