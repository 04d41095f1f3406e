"""Write a JSONL import file with N concessions (and the two parties and source they need).

Usage: python bench/make_concessions.py 1000000 /tmp/1m.jsonl
Then:  /usr/bin/time -v ledger --db /tmp/1m.db import /tmp/1m.jsonl   (peak RSS: "Maximum resident set size")
"""

from __future__ import annotations

import json
import sys


def main() -> None:
    count, path = int(sys.argv[1]), sys.argv[2]
    with open(path, "w", encoding="utf-8") as out:
        out.write(json.dumps({"type": "party", "id": "giver", "name": "Giver State", "kind": "state"}) + "\n")
        out.write(json.dumps({"type": "party", "id": "receiver", "name": "Receiver State", "kind": "state"}) + "\n")
        out.write(json.dumps({"type": "source", "id": "report", "title": "A long report"}) + "\n")
        for i in range(count):
            record = {
                "type": "concession", "id": f"c-{i:07d}", "giver": "giver", "receiver": "receiver",
                "kind": "prisoner_release", "summary": f"Release of prisoner group {i}", "quantity": i % 50 + 1,
                "unit": "person", "status": "delivered", "date": f"20{10 + i % 15}-{i % 12 + 1:02d}",
                "citations": [{"source": "report", "quote": f"group {i} was released", "locator": f"p. {i}"}],
            }  # fmt: skip
            out.write(json.dumps(record) + "\n")


if __name__ == "__main__":
    main()
