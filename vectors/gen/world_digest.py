#!/usr/bin/python3
"""world_digest.py - FNV-1a 64 digests of the files of a generated world,
the golden output that tests/papers/knowledge/test_world.c compares on every platform.

    ./llamaref world --seed 7 --people 60 --max-mentions 40 --zipf-offset 10 \\
        --shots 8 --bench-dev 2 --bench-test 6 --exam-documents 12 --out /tmp/w7 --quiet
    /usr/bin/python3 vectors/gen/world_digest.py /tmp/w7 > vectors/world/small_seed7.fnv

(the options are those of small_opts() in tests/papers/knowledge/test_world.c).  Each line:
"<16 hex digits> <bytes> <file>".  Generated natively (x86-64); the test
run on s390x and i686 under qemu must reproduce it byte for byte.
"""
import sys

FILES = ["entities.jsonl", "facts.jsonl", "qa.jsonl", "shots.jsonl", "refusals.jsonl",
         "benchmark/dev/world_dev.csv", "benchmark/test/world_test.csv", "corpus.txt",
         "valid.txt", "world.json"]


def fnv1a64(data):
    h = 0xcbf29ce484222325
    for b in data:
        h ^= b
        h = (h * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return h


def main():
    d = sys.argv[1]
    for name in FILES:
        with open(d + "/" + name, "rb") as f:
            data = f.read()
        print("%016x %d %s" % (fnv1a64(data), len(data), name))


if __name__ == "__main__":
    main()
