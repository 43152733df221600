"""The tables of each benchmark in docs/benchmarks.md, from its JSON document.

`TABLES[name](doc, figures)` returns Markdown blocks: tables, and images of the
figures drawn from the same results. Only figures of the results are written;
what they mean is the page's hand-written analysis.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from bench.markdown import median_iqr, ms, ms_iqr, number, table, times
from bench.plots import run_name, sweep_rows

MIB = 2**20
MODES = ("load_fast=true", "load_fast=false")


def logging_tables(doc: dict, figures: dict) -> list[str]:
    r = doc["results"]
    labels = {
        "tb_rnngrad": "tb-rnngrad `GradientLogger.log` (capture + write + flush)",
        "capture_only": "tb-rnngrad `capture.capture` only",
        "histogram": "`tf.function` gradients + eager `tf.summary.histogram` + flush",
        "histogram_fn": "the same, histogram ops inside the `tf.function`",
        "bare": "floor: the `tf.function`'s gradients copied to NumPy",
    }
    rows = [
        [label, ms_iqr(r["sides"][key]["ms"]), ms(r["sides"][key]["cpu_ms"]["median"])]
        for key, label in labels.items()
        if key in r["sides"]
    ]
    bps, values = r["bytes_per_step"], r["values_per_step"]
    bytes_rows = [
        [side, f"{bps[side]:,.0f}", f"{bps[side] / values:.4f}"]
        for side in ("tb_rnngrad", "histogram", "histogram_fn")
        if side in bps
    ]
    ratios = [
        [pair, times(spread["wall"]), times(spread["cpu"])]
        for pair, spread in r["ratios"].items()
    ]
    return [
        table(["side", "wall (IQR)", "CPU"], rows),
        table(["A / B", "wall, per repetition", "CPU"], ratios),
        table(["written by", "bytes per logged step", "bytes per value"], bytes_rows),
    ]


def drawing_tables(doc: dict, figures: dict) -> list[str]:
    r = doc["results"]
    sides, pixels = r["sides"], r["pixels"]
    tools = {
        "browser": ("browser_heatmap", "browser_grid"),
        "see_rnn": ("see_rnn_2d", "see_rnn_1d"),
        "viz": ("viz_heatmap", "viz_grid"),
    }
    rows = [
        [
            tool,
            *(ms_iqr(sides[p]["ms"]) for p in parts),
            ms_iqr(r["totals"][tool]),
            ", ".join("x".join(map(str, pixels[p])) for p in parts if p in pixels),
        ]
        for tool, parts in tools.items()
        if tool in r["totals"]
    ]
    blocks = [
        table(["tool", "heatmaps", "channel grid", "both", "pixels"], rows),
        table(
            ["A / B", "per repetition"],
            [[pair, times(spread)] for pair, spread in r["ratios"].items()],
        ),
        table(
            ["browser", "median (IQR)"],
            [
                ["to the next animation frame", ms_iqr(r["browser_to_next_frame_ms"])],
                ["one sample instead of all", ms_iqr(r["browser_one_sample_ms"])],
                ["parsing the `.npy`", ms(r["parse_ms"])],
            ],
        ),
    ]
    if "see_rnn_error" in r:
        blocks.append(f"see-rnn could not be loaded: {r['see_rnn_error']}")
    return blocks


def storage_tables(doc: dict, figures: dict) -> list[str]:
    rows = [
        [
            w["label"],
            f"{w['bytes_first_step']:,.0f}",
            f"{w['bytes_per_later_step']:,.0f}",
            f"{w['bytes_per_value']:.4f}",
            f"{w['bytes_per_value'] / 4:.4f}x",
        ]
        for w in doc["results"]["ways"].values()
    ]
    header = ["written by", "bytes, first step", "bytes per later step"]
    return [table(header + ["bytes per value", "/ raw float32"], rows)]


def scaling_tables(doc: dict, figures: dict) -> list[str]:
    r = doc["results"]
    blocks = []
    for sweep in ("timesteps", "channels"):
        rows = sweep_rows(doc, sweep)
        if len(rows) < 2:
            continue
        if sweep in figures:
            blocks.append(f"![Cost against {sweep}]({figures[sweep]})")
        series = scaling_series(r, rows)
        blocks.append(
            table(
                ["timesteps x channels", "values", *series],
                [
                    [f"{row['timesteps']} x {row['channels']}", f"{row['values']:,}"]
                    + [_scaling_cell(name, col[i]) for name, col in series.items()]
                    for i, row in enumerate(rows)
                ],
            )
        )
        blocks.append(growth_table([row["values"] for row in rows], series))
    if r.get("bptt"):
        blocks += bptt_scaling_tables(r["bptt"])
    for stage, error in (r.get("errors") or {}).items():
        blocks.append(f"Stage {stage} failed: {error.splitlines()[0]}")
    return blocks


def bptt_scaling_tables(bptt: dict) -> list[str]:
    """The bptt stage: capture with issue 12's kinds and the bare step at two
    lengths, and how each grows from the shorter to the longer."""
    sides, ratios = bptt["sides"], bptt["ratio"]
    kinds = " + ".join(bptt["kinds"])
    rows = [
        [
            f"{steps} x {bptt['channels']}",
            ms_iqr(sides[f"capture_t{steps}"]["ms"]),
            ms_iqr(sides[f"capture_t{steps}"]["cpu_ms"]),
            ms_iqr(sides[f"bare_t{steps}"]["ms"]),
            ms_iqr(sides[f"bare_t{steps}"]["cpu_ms"]),
            times(ratios[f"t{steps}"]["wall"]),
            times(ratios[f"t{steps}"]["cpu"]),
        ]
        for steps in bptt["timesteps"]
    ]
    header = ["timesteps x channels", "`capture` wall (IQR)", "`capture` CPU (IQR)"]
    header += ["bare fwd+bwd wall (IQR)", "bare fwd+bwd CPU (IQR)"]
    short, long = bptt["timesteps"]
    labels = {
        "capture": "`capture`",
        "bare": "bare fwd+bwd",
        "capture/bare": "`capture`'s growth / bare fwd+bwd's",
    }
    growth = [
        [label, times(bptt["growth"][key]["wall"]), times(bptt["growth"][key]["cpu"])]
        for key, label in labels.items()
    ]
    return [
        f"### Kinds {kinds}, batch {bptt['batch']}\n\n"
        + table(header + ["capture / bare, wall", "capture / bare, CPU"], rows),
        table(
            [f"growth {short} -> {long} timesteps", "wall, per rotation", "CPU"],
            growth,
        ),
    ]


def scaling_series(r: dict, rows: list[dict]) -> dict[str, list[float | None]]:
    """Each measured series of the scaling table, by its column name."""
    names = [run_name(row) for row in rows]
    series = {
        side: [row["ms"][key]["median"] for row in rows]
        for side, key in (
            ("capture+write", "capture_write"),
            ("bare fwd+bwd", "floor"),
            ("write alone", "write"),
        )
    }
    series["MiB per step"] = [row["event_bytes_per_step"] / MIB for row in rows]
    for mode, got in (r.get("route") or {}).items():
        got = got or {}
        series[f"`GET tensor` {mode}"] = [
            got[n]["ms"]["median"] if n in got else None for n in names
        ]
    draw = r.get("draw") or {}
    series["browser draw"] = [
        draw[n]["both_ms"]["median"] if n in draw else None for n in names
    ]
    return series


def _scaling_cell(name: str, amount: float | None) -> str:
    if amount is None:
        return "n/a"
    return f"{amount:.2f}" if name == "MiB per step" else ms(amount)


def growth_table(sizes: list[float], series: dict[str, list[float | None]]) -> str:
    """Log-log slopes of each series against `sizes` (1 = linear)."""
    rows = []
    for name, values in series.items():
        if None in values:
            continue
        g = growth(sizes, values)
        linear = g["linear_from"]
        rows.append(
            [
                name,
                f"{values[-1] / values[0]:.2f}x",
                f"{g['overall']:.2f}",
                ", ".join(f"{s:.2f}" for s in g["steps"]),
                "none" if linear is None else f"{linear:,}",
            ]
        )
    header = ["series", "last / first", "slope", "slope per step", "linear from"]
    return table(header, rows)


def slope(x0: float, y0: float, x1: float, y1: float) -> float:
    """Log-log slope between two points (1 = linear growth)."""
    return math.log(y1 / y0) / math.log(x1 / x0)


def growth(sizes: list[float], values: list[float]) -> dict[str, Any]:
    """How `values` grow with `sizes`: overall and pairwise log-log slopes.

    Returns:
        {"overall": slope first to last, "steps": [slope between neighbours],
        "linear_from": the smallest size from which every further step has a
        slope of at least 0.8 (None if the last step is below), "super": the
        pairs (size, next size) with a slope above 1.25}.
    """
    pairs = list(zip(sizes, values, strict=True))
    steps = [slope(*a, *b) for a, b in zip(pairs, pairs[1:], strict=False)]
    linear_from = None
    for i in range(len(steps) - 1, -1, -1):
        if steps[i] < 0.8:
            break
        linear_from = sizes[i]
    return {
        "overall": slope(*pairs[0], *pairs[-1]),
        "steps": steps,
        "linear_from": linear_from,
        "super": [(sizes[i], sizes[i + 1]) for i, s in enumerate(steps) if s > 1.25],
    }


def capture_tables(doc: dict, figures: dict) -> list[str]:
    r = doc["results"]
    rows = []
    for row in r["rows"]:
        if "share" in row:
            rows.append([row["label"], "", "", "", "", f"{row['share']:.3f}", ""])
            continue
        s = row["spread"]
        rows.append(
            [
                row["label"],
                ms_iqr(s["a_ms"]),
                _cpu(s.get("a_cpu_ms")),
                ms_iqr(s["b_ms"]),
                _cpu(s.get("b_cpu_ms")),
                times(s["ratio"]),
                f"{row['cpu_ratio']:.2f}x",
            ]
        )
    header = ["comparison (A / B)", "A wall (IQR)", "A CPU", "B wall (IQR)", "B CPU"]
    blocks = [table(header + ["A/B wall, per pair", "A/B CPU"], rows)]
    if "bptt" in r:
        blocks.append(bptt_table(r["bptt"]))
    return blocks


def _cpu(spread: dict | None) -> str:
    return "n/a" if spread is None else ms(spread["median"])


def bptt_table(bptt: dict) -> str:
    """(d): each side of the rotation, and its ratio to the bare step."""
    rows = []
    for name, side in bptt["sides"].items():
        got = bptt["ratios"].get(name)
        rows.append(
            [
                side["label"],
                ms_iqr(side["ms"]),
                ms_iqr(side["cpu_ms"]),
                times(got["wall"]) if got else "(the floor)",
                times(got["cpu"]) if got else "(the floor)",
            ]
        )
    header = ["(d) side, one call", "wall (IQR)", "CPU (IQR)"]
    return (
        f"(d) `capture` with kinds {' + '.join(bptt['kinds'])}, each kind alone "
        f"and their parts, against the bare fwd+bwd; {bptt['reps']} rotations.\n\n"
        + table(header + ["/ bare, wall per rotation", "/ bare, CPU"], rows)
    )


def browser_tables(doc: dict, figures: dict) -> list[str]:
    r = doc["results"]
    draws = [[label, ms_iqr(s)] for label, s in r["draw_ms"].items()]
    speeds = [["draw page, one sample", *_speed(r["back_to_back"])]]
    speeds += [
        [f"plugin in `tensorboard`, {mode} sample(s)", *_speed(v)]
        for mode, v in (r.get("scrub") or {}).items()
    ]
    blocks = [
        table(["draw", "median (IQR)"], draws),
        table(["steps drawn back to back", "steps", "steps/s (IQR)"], speeds),
    ]
    if "scrub_error" in r:
        blocks.append(f"Scrubbing in the plugin failed: {r['scrub_error']}")
    return blocks


def _speed(v: dict) -> list[str]:
    return [str(v["steps"]), median_iqr(v["steps_per_second"])]


def routes_tables(doc: dict, figures: dict) -> list[str]:
    r = doc["results"]
    blocks = []
    for section, title, rows in (
        ("tensor", "(a) `tensor`", TENSOR_ROWS),
        ("profile", "(b) `profile`", PROFILE_ROWS),
        ("tags", "(c) `tags`", TAGS_ROWS),
    ):
        if section in r:
            blocks.append(f"### {title}\n\n{_by_mode(r[section], rows)}")
    if "memory" in r:
        blocks.append("### (d) memory\n\n" + memory_table(r["memory"]))
    return blocks


Row = tuple[str, Callable[[dict], str]]


def _by_mode(section: dict, rows: list[Row]) -> str:
    modes = [m for m in MODES if m in section]
    body = [[label, *(fmt(section[m]) for m in modes)] for label, fmt in rows]
    return table(["", *modes], body)


def _ms_ratio(ms_key: str, ratio_key: str) -> Callable[[dict], str]:
    def fmt(v: dict) -> str:
        if ms_key not in v:
            return "n/a"
        return f"{ms(v[ms_key])} ({v[ratio_key]:.2f}x)"

    return fmt


TENSOR_ROWS: list[Row] = [
    ("body, MiB", lambda v: f"{v['body_mib']:.2f}"),
    ("`GET tensor`", lambda v: ms(v["get_ms"])),
    ("provider `read_blob`, benchmark process", lambda v: ms(v["read_blob_ms"])),
    ("`GET tensor` / `read_blob`, per pair", lambda v: f"{v['ratio']:.2f}x"),
    ("fastest `read_blob` seen", lambda v: ms(v["read_blob_best_ms"])),
    ("`GET tensor` / fastest `read_blob`", lambda v: f"{v['best_ratio']:.2f}x"),
    ("transport floor (bare werkzeug, same bytes)", lambda v: ms(v["floor_ms"])),
    ("transport floor / `read_blob`", lambda v: f"{v['floor_vs_read_blob']:.2f}x"),
    ("`GET tensor` / transport floor", lambda v: f"{v['floor_ratio']:.2f}x"),
    (
        "`GET tensor`, glibc allocator tuned (/ `read_blob`)",
        _ms_ratio("tuned_get_ms", "tuned_ratio"),
    ),
    (
        "images plugin's `individualImage`, same blob (`GET tensor` / it)",
        _ms_ratio("image_ms", "image_ratio"),
    ),
    (
        "`GET tensor`, WSGI app in-process (/ `read_blob`)",
        _ms_ratio("wsgi_ms", "wsgi_ratio"),
    ),
    ("`tensor_impl` in-process (/ `read_blob`)", _ms_ratio("impl_ms", "impl_ratio")),
    ("body / logged `.npy`", lambda v: f"{v['body_ratio']:.4f}x"),
    ("`GET tensor&sample=3` (/ `read_blob`)", _ms_ratio("sample_ms", "sample_ratio")),
]
PROFILE_ROWS: list[Row] = [
    ("steps x timesteps", lambda v: f"{v['steps']:,} x {v['timesteps']:,}"),
    ("warm, gzip", lambda v: f"{ms(v['gzip_ms'])} ({v['gzip_mib']:.2f} MiB)"),
    ("warm, no gzip", lambda v: f"{ms(v['plain_ms'])} ({v['plain_mib']:.2f} MiB)"),
    ("first answer after start", lambda v: ms(v["cold_ms"])),
    ("provider `read_tensors`, in-process", lambda v: ms(v["read_tensors_ms"])),
]
TAGS_ROWS: list[Row] = [
    ("series", lambda v: f"{v['series']:,}"),
    ("`GET tags`", lambda v: ms(v["get_ms"])),
    ("provider `list_blob_sequences`, in-process", lambda v: ms(v["listing_ms"])),
]


def memory_table(mem: dict) -> str:
    """Resident MiB of `tensorboard` and its data server, per logdir and mode."""
    written = mem.get("written_mib", {})
    rows = [
        [
            f"{row['logdir']} ({number(written[row['logdir']])} MiB)"
            if row["logdir"] in written
            else row["logdir"],
            row["retention"],
            row["mode"],
            f"{row['kept']:,}",
            f"{row['tensorboard_mib']:,.0f}",
            f"{row['data_server_mib']:,.0f}",
            f"{row['total_mib']:,.0f}",
        ]
        for row in mem.get("rows", [])
    ]
    header = ["logs (event files)", "retention", "mode", "full tensors kept"]
    steps = f"{mem.get('steps', 0):,} logged steps.\n\n"
    mib = ["tensorboard, MiB", "data server, MiB", "total, MiB"]
    return steps + table(header + mib, rows)


def ratio_table(rows: list[dict]) -> str:
    """Comparisons A / B: each side's time and the per-repetition ratios."""
    header = ["comparison (A / B)", "A (IQR)", "B (IQR)", "A/B wall, per repetition"]
    cells = [
        [
            row["label"],
            ms_iqr(row["ms"]),
            ms_iqr(row["b_ms"]),
            times(row["ratio"]),
            times(row["cpu_ratio"]),
        ]
        for row in rows
    ]
    return table(header + ["A/B CPU"], cells)


def torch_tables(doc: dict, figures: dict) -> list[str]:
    """bench_torch: the PyTorch capture and logger against bare torch."""
    share = doc["results"]["training"]["with_logger"]["logger_share"]
    return [
        ratio_table(doc["results"]["rows"]),
        f"The logger's own time in the loop with it: {share:.1%} of the loop.",
    ]


def unrolled_tables(doc: dict, figures: dict) -> list[str]:
    """bench_unrolled: capture of a decoder loop and the logger in its training,
    in PyTorch and in Keras."""
    results = doc["results"]
    share = results["training"]["with_logger"]["logger_share"]
    blocks = [
        ratio_table(results["rows"]),
        f"The logger's own time in the PyTorch loop with it: {share:.1%} of the loop.",
    ]
    keras = results.get("keras")
    if keras:
        share = keras["fit"]["with_logger"]["logger_share"]
        blocks.append(
            f"The logger's own time in the Keras fit with it: {share:.1%} of the fit."
        )
    return blocks


def backends_tables(doc: dict, figures: dict) -> list[str]:
    """bench_backends: capture on each Keras 3 backend against its bare step."""
    return [ratio_table(doc["results"]["rows"])]


def sweep_tables(doc: dict, figures: dict) -> list[str]:
    """bench_sweep: routes, the compare view's paint and memory on a sweep."""
    r, p = doc["results"], doc["params"]
    modes = [m for m in MODES if m in r["modes"]]
    by_mode = [r["modes"][m] for m in modes]
    rows = [
        [
            "loaded (all runs listed) after start",
            *(f"{v['load_seconds']:.1f} s" for v in by_mode),
        ],
        ["`tags`, warm", *(ms_iqr(v["tags_ms"]) for v in by_mode)],
        [
            "`compare?tag=state/rnn`, first (cold)",
            *(ms(v["compare_cold_ms"]) for v in by_mode),
        ],
        ["`compare?tag=state/rnn`, warm", *(ms_iqr(v["compare_ms"]) for v in by_mode)],
        [
            "`compare` answer",
            *(f"{v['compare_bytes'] / 1024:,.0f} KiB" for v in by_mode),
        ],
        [
            "resident memory: tensorboard",
            *(f"{v['memory']['tensorboard_mib']:,.0f} MiB" for v in by_mode),
        ],
        [
            "resident memory: data server",
            *(f"{v['memory']['data_server_mib']:,.0f} MiB" for v in by_mode),
        ],
        [
            "resident memory: total",
            *(f"{v['memory']['total_mib']:,.0f} MiB" for v in by_mode),
        ],
    ]
    head = (
        f"{p['runs']} runs x {p['tags']} tags x {p['steps']} logged steps of "
        f"{'x'.join(map(str, p['shape']))} single-precision floats, "
        f"{r['logdir_mib']:,.0f} MiB of "
        f"event files (written in {r['write_seconds']:.0f} s)."
    )
    blocks = [head, table(["measure", *modes], rows)]
    paint = r["modes"].get("load_fast=true", {}).get("paint")
    if paint:
        blocks.append(
            table(
                ["compare view in Chromium (load_fast=true)", "median (IQR)"],
                [
                    [
                        "iframe `load` after the page's start",
                        ms_iqr(paint["iframe_load_after_start_ms"]),
                    ],
                    [
                        f"compare view of {paint['rows']} runs drawn after the "
                        "iframe's `load`",
                        ms_iqr(paint["after_iframe_load_ms"]),
                    ],
                ],
            )
        )
    return blocks


def weights_tables(doc: dict, figures: dict) -> list[str]:
    """bench_weights: the weight kinds in a fit, and the Weights view's draw."""
    r = doc["results"]
    fit = r["fit"]
    rows = []
    for label, m in (
        (
            "logger with " + " + ".join(doc["params"]["kinds"]) + " / none",
            fit["logger"],
        ),
        ("control: none / the same again", fit["control"]),
    ):
        s = m["spread"]
        rows.append(
            [
                f"fit {fit['fit_steps']} steps: {label}",
                ms_iqr(s["a_ms"]),
                ms_iqr(s["b_ms"]),
                times(s["ratio"]),
                times(s["cpu_ratio"]),
            ]
        )
    header = [
        "comparison (A / B)",
        "A wall (IQR)",
        "B wall (IQR)",
        "A/B wall",
        "A/B CPU",
    ]
    draw = r["draw"]
    return [
        table(header, rows),
        f"The logger's own time inside the fit: {fit['logger_share']:.1%} of it.",
        table(
            ["draw (Chromium " + draw["chromium"] + ")", "median (IQR)"],
            [[label_of_draw(doc), ms_iqr(draw["ms"])]],
        ),
    ]


def label_of_draw(doc: dict) -> str:
    """The draw's label, from its check."""
    found = [c["target"] for c in doc["checks"] if c["target"].startswith("(b)")]
    return found[0].removeprefix("(b) ") if found else "Weights view"


def distribute_tables(doc: dict, figures: dict) -> list[str]:
    """bench_distribute: a MirroredStrategy fit with the logger and without."""
    share = doc["results"]["logger_share"]
    return [
        ratio_table(doc["results"]["rows"]),
        f"The logger's own time in the fit with it: {share:.1%} of the fit.",
    ]


def long_run_tables(doc: dict, figures: dict) -> list[str]:
    """bench_long_runs: the profile route and the flow view at many steps."""
    r = doc["results"]
    steps = f"{doc['params']['steps']:,}"
    route = table(
        ["`GET profile`, warm", "time (IQR)", "body"],
        [
            [f"{steps} steps, {name}", ms_iqr(v["ms"]), f"{v['bytes'] / MIB:.2f} MiB"]
            for name, v in r["profile"].items()
        ],
    )
    draw = table(
        ["flow view in Chromium", "draw (IQR)"],
        [[label, ms_iqr(v)] for label, v in r["flow"]["draw_ms"].items()],
    )
    parse_ms = ms(r["flow"]["parse_ms"])
    parse = f"`JSON.parse` of the {steps}-step answer in the page: {parse_ms}."
    return [route, draw, parse]


def health_tables(doc: dict, figures: dict) -> list[str]:
    """bench_health: `tb-rnngrad check` over the sweep (and, side by side, the
    load and check through each of TensorBoard's readers), the `health` route
    and the logger's health check in a fit."""
    r = doc["results"]
    check = table(
        ["`tb-rnngrad check` over the sweep", "time (IQR)"],
        [
            ["whole command, fresh interpreter", ms_iqr(_ms(r["check"]["command_s"]))],
            [
                "`health.check` alone, logs loaded",
                ms_iqr(_ms(r["check"]["check_only_s"])),
            ],
        ],
    )
    loads = r["check"].get("load_and_check_s")
    if loads:
        check += "\n\n" + table(
            ["load the sweep and check it, in one process", "time (IQR)"],
            [
                [f"through the {k.replace('_', ' ')}", ms_iqr(_ms(v))]
                for k, v in loads.items()
            ],
        )
        ratio = times(r["check"]["data_server_over_multiplexer"])
        check += f"\n\nData server / multiplexer: {ratio}."
    route = table(
        ["`health` route", "warm (IQR)", "first request"],
        [[m, ms_iqr(v["warm_ms"]), ms(v["cold_ms"])] for m, v in r["route"].items()],
    )
    logger = (
        f"Fit with the logger's health check / without: {times(r['logger']['ratio'])};"
        f" the check's own time inside the fit: {r['logger']['check_share']:.2%} of it."
    )
    return [check, route, logger]


def _ms(spread_s: dict) -> dict:
    """A spread in seconds (bench.timing.spread) in milliseconds."""
    return {k: v * 1e3 for k, v in spread_s.items() if k != "n"}


def budget_tables(doc: dict, figures: dict) -> list[str]:
    """bench_budget: bytes per logged step, TensorBoard's memory and first
    paint at the budget, the capture's peak memory."""
    served = doc["served"]["modes"]
    memory = table(
        ["mode", "tensorboard + data server RSS", "first paint (IQR)"],
        [
            [
                m,
                f"{v['memory']['total_mib']:.0f} MiB",
                ms_iqr(v["paint_after_iframe_load_ms"]),
            ]
            for m, v in served.items()
        ],
    )
    logger = doc["logger"]
    written = logger["log"]["budget"]["bytes"]["median"]
    per_step = (
        f"Bytes per logged step: {written:,.0f} of a budget of "
        f"{logger['budget_bytes']:,} ({written / logger['budget_bytes']:.2%}); "
        f"logger time with the budget / without: {times(logger['log_ratio'])}; "
        f"capture peak memory / bare: {times(doc['peak']['ratio'])}."
    )
    return [memory, per_step]


#: Benchmark name -> its tables.
TABLES: dict[str, Callable[[dict, dict], list[str]]] = {
    "compare_logging": logging_tables,
    "compare_drawing": drawing_tables,
    "storage": storage_tables,
    "scaling": scaling_tables,
    "bench_capture": capture_tables,
    "bench_browser": browser_tables,
    "bench_routes": routes_tables,
    "bench_torch": torch_tables,
    "bench_backends": backends_tables,
    "bench_unrolled": unrolled_tables,
    "bench_sweep": sweep_tables,
    "bench_weights": weights_tables,
    "bench_distribute": distribute_tables,
    "bench_long_runs": long_run_tables,
    "bench_health": health_tables,
    "bench_budget": budget_tables,
}
