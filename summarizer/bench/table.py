"""A benchmark's result as a table: aligned text, Markdown or JSON, ratios to the naive row."""

from __future__ import annotations

import json
from typing import Any

from .runner import BenchResult


def render(result: BenchResult, fmt: str = "table") -> str:
    """The result as an aligned table, a Markdown table or JSON."""
    naive = result.row("naive")
    base = naive.generated_per_second if naive else 0.0
    records = []
    for row in result.rows:
        if row.skipped:
            records.append({"row": row.name, "skipped": row.skipped, "what": row.description})
            continue
        gflops = row.flops / row.seconds / 1e9 if row.seconds else 0.0
        records.append(
            {
                "row": row.name,
                "generated tokens/s": round(row.generated_per_second, 1),
                "source tokens/s": round(row.source_per_second, 1),
                "seconds": round(row.seconds, 2),
                "segments": row.segments,
                "peak RSS MB": round(row.peak_rss_mb),
                "x naive": round(row.generated_per_second / base, 1) if base else None,
                "GFLOP/s": round(gflops, 1),
                "% of matmul": round(100 * gflops / result.matmul_gflops, 1),
                "top-1 agreement": None if row.top1_agreement is None else round(row.top1_agreement, 3),
                "what": row.description,
            }
        )
    if fmt == "json":
        return json.dumps(
            {"model": result.model, "threads": result.threads, "matmul_gflops": round(result.matmul_gflops, 1),
             "rows": records},
            indent=2,
        )
    columns = ["row", "generated tokens/s", "source tokens/s", "seconds", "peak RSS MB", "x naive",
               "GFLOP/s", "% of matmul", "top-1 agreement"]
    lines = []
    for record in records:
        if "skipped" in record:
            lines.append([record["row"], f"skipped: {record['skipped']}"] + [""] * (len(columns) - 2))
        else:
            lines.append([_cell(record[column]) for column in columns])
    header = f"model {result.model}, {result.threads} threads, float32 matmul {result.matmul_gflops:.1f} GFLOP/s"
    if fmt == "markdown":
        out = [header, "", "| " + " | ".join(columns) + " |", "|" + " --- |" * len(columns)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
        return "\n".join(out)
    widths = [max(len(column), *(len(line[i]) for line in lines)) for i, column in enumerate(columns)]
    out = [header, "  ".join(c.ljust(w) for c, w in zip(columns, widths))]
    out += ["  ".join(cell.ljust(w) for cell, w in zip(line, widths)) for line in lines]
    return "\n".join(out)


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)
