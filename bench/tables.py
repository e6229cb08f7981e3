"""The Markdown tables the benchmarks print, ready to paste into bench/README.md."""

from __future__ import annotations


def print_table(columns: tuple[str, ...], rows: list[tuple], *, left: set[int]) -> None:
    """`rows` under `columns`, the columns numbered in `left` aligned left, the others
    (figures) right."""
    widths = [max(len(str(x)) for x in column) for column in zip(columns, *rows, strict=True)]
    print("| " + " | ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)) + " |")
    print("|" + "|".join("-" * (w + 2) if i in left else "-" * (w + 1) + ":"
                         for i, w in enumerate(widths)) + "|")
    for row in rows:
        cells = [str(x).ljust(w) if i in left else str(x).rjust(w)
                 for i, (x, w) in enumerate(zip(row, widths, strict=True))]
        print("| " + " | ".join(cells) + " |")
