"""Prints benchmark results as a Markdown table (pasteable into docs/benchmarks.md)."""

from __future__ import annotations


def print_table(title: str, header: list[str], rows: list[list[str]]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    print(f"\n{title}\n")
    print("| " + " | ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        print("| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |")


def speed_probe() -> str:
    """CPU seconds for 3 million Python additions: this VM's speed drifts by tens of percent,
    so every table says how fast the machine was while it was measured."""
    import time

    start = time.process_time()
    total = 0
    for i in range(3_000_000):
        total += i
    return f"CPU speed probe: {time.process_time() - start:.3f} s (lower is faster)"
