#!/usr/bin/env python3
"""Percentiles of a Prometheus histogram between two scrapes.

Reads the `_bucket` lines of the later scrape on stdin and those of the earlier one from the
file named as the only argument, and prints the count and p50 / p90 / p99 in milliseconds,
interpolated linearly inside the bucket where each falls.
"""
import re
import sys


def buckets(lines):
    out = {}
    for line in lines:
        m = re.search(r'le="([^"]+)"\}\s+(\d+)', line)
        if m:
            out[float("inf") if m.group(1) == "+Inf" else float(m.group(1))] = int(m.group(2))
    return out


def main():
    after = buckets(sys.stdin)
    with open(sys.argv[1]) as f:
        before = buckets(f)
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0) for b in bounds]
    total = counts[-1] if counts else 0
    if total == 0:
        print("no samples")
        return
    shown = []
    for q in (0.5, 0.9, 0.99):
        rank = q * total
        lower, below = 0.0, 0
        for bound, cumulative in zip(bounds, counts):
            if cumulative >= rank:
                upper = bound if bound != float("inf") else lower
                share = (rank - below) / max(cumulative - below, 1)
                shown.append(f"p{round(q * 100)} {1000 * (lower + share * (upper - lower)):.1f} ms")
                break
            lower, below = bound, cumulative
    print(f"{total} referrals, " + ", ".join(shown))


if __name__ == "__main__":
    main()
