"""How fast `prefc fmt` is, against the parse it cannot do without, measured in the same run.

Formatting a file parses it (with its comments), prints every statement again, and parses the
result to check that it means the same spec; so its cost is a small multiple of one parse. This
prints, for the spec library and for each spec: the median time of one parse, of one format, and
their ratio (after a warming pass, so the parser's construction is not counted).

Usage: ``python bench/format_speed.py [--repeat N]``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from prefc.compiler.format import format_text
from prefc.compiler.parse import parse_text

ROOT = Path(__file__).resolve().parent.parent


def _median_seconds(fn, text: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn(text)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    """Print parse and format times of every library spec and their ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timed runs per spec (default 20)")
    args = parser.parse_args()
    specs = sorted((ROOT / "specs").glob("*.pref"))
    texts = {p.name: p.read_text(encoding="utf-8") for p in specs}
    for text in texts.values():  # warm: parser tables, imports
        format_text(text)
    total_parse = total_format = 0.0
    print(f"{'spec':<20} {'chars':>7} {'parse ms':>9} {'fmt ms':>8} {'fmt/parse':>9}")
    for name, text in texts.items():
        parse = _median_seconds(parse_text, text, args.repeat)
        fmt = _median_seconds(format_text, text, args.repeat)
        total_parse, total_format = total_parse + parse, total_format + fmt
        print(f"{name:<20} {len(text):>7} {parse * 1e3:>9.2f} {fmt * 1e3:>8.2f} {fmt / parse:>9.2f}")
    print(
        f"{'library':<20} {sum(map(len, texts.values())):>7} {total_parse * 1e3:>9.2f} "
        f"{total_format * 1e3:>8.2f} {total_format / total_parse:>9.2f}"
    )


if __name__ == "__main__":
    main()
