"""The benchmark harness (bench/timing.py) and the page it writes (bench/report.py):
tables and verdicts from the results only, the hand-written analysis kept."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from bench import report, timing
from bench.__main__ import DOC
from bench.report_tables import growth

ANALYSIS = (
    f"{report.ANALYSIS_START}\n## Analysis\r\n\nMeasured 2026-11-28: 8 ms to 46 ms,"
    f" 0.57x to 3.6x.  \n\tKept as written: “quotes”, CRLF, trailing spaces.\n"
    f"{report.ANALYSIS_END}"
)


def test_interleave_rotates_the_order_of_sides_each_repetition():
    calls = []
    sides = {name: (lambda n=name: calls.append(n)) for name in "abc"}
    raw = timing.interleave(sides, reps=3, warmup=1)
    assert calls == list("abc" + "abc" + "bca" + "cab")
    assert all(len(raw[n]["wall"]) == 3 for n in "abc")


def test_a_side_that_returns_seconds_is_timed_by_them():
    raw = timing.interleave({"a": lambda: timing.Seconds(0.25)}, reps=2, warmup=0)
    assert raw["a"]["wall"] == [0.25, 0.25]


def test_side_by_side_gives_ratios_to_the_last_side():
    sides = {
        "a": lambda: timing.Seconds(0.5),
        "b": lambda: timing.Seconds(0.75),
        "reference": lambda: timing.Seconds(0.25),
    }
    found = timing.side_by_side(sides, reps=3)
    assert found["a"]["ms"]["median"] == 500
    assert found["a"]["ratio"]["median"] == 2.0
    assert found["b"]["ratio"]["median"] == 3.0
    assert "ratio" not in found["reference"]


def test_spread_and_ratio():
    s = timing.spread([4.0, 1.0, 3.0, 2.0, 5.0], scale=10)
    assert (s["median"], s["q1"], s["q3"], s["iqr"], s["n"]) == (30, 20, 40, 20, 5)
    assert timing.ratio([2.0, 6.0, 9.0], [1.0, 2.0, 3.0])["median"] == 3.0


def test_reps_within_a_budget():
    assert timing.reps_within(0.1, 3.0, 5, 15) == 15
    assert timing.reps_within(1.0, 3.0, 5, 15) == 5
    assert timing.reps_within(0.3, 3.0, 5, 15) == 10


def test_growth_finds_where_cost_becomes_linear():
    sizes = [1, 2, 4, 8, 16]
    values = [10, 10.5, 12, 24, 48]  # flat (fixed cost), then linear
    g = growth(sizes, values)
    assert g["steps"][-1] == pytest.approx(1.0)
    assert g["linear_from"] == 4
    assert growth([1, 2, 4], [1, 4, 8])["super"] == [(1, 2)]


def test_a_check_names_its_comparison():
    assert timing.check("a", 1.5, ">=", 2, "x") == {
        "target": "a",
        "value": 1.5,
        "op": ">=",
        "limit": 2,
        "unit": "x",
    }
    with pytest.raises(ValueError, match="got '<'$"):
        timing.check("a", 1.0, "<", 2, "x")


@pytest.mark.parametrize(
    "op, value, expected",
    [
        ("<=", 50.0, "met"),
        ("<=", 50.1, "**not met**"),
        (">=", 30.0, "met"),
        (">=", 29.9, "**not met**"),
    ],
)
def test_verdict_compares_the_measured_value_with_the_limit(op, value, expected):
    limit = 50.0 if op == "<=" else 30.0
    assert report.verdict(timing.check("t", value, op, limit, "ms")) == expected


# A run with every benchmark, as `python -m bench` stores it.


def spread(median: float) -> dict:
    return {
        "median": median,
        "q1": median * 0.9,
        "q3": median * 1.2,
        "iqr": median * 0.3,
        "min": median * 0.8,
        "max": median * 1.4,
        "n": 5,
    }


def status(name: str, **extra) -> dict:
    return {
        "name": name,
        "what": f"what {name} measures",
        "command": f"python -m bench.{name} --reps 3",
        "ok": True,
        "seconds": 12.5,
        "load_start": [1.25, 1.5, 1.75],
        "load_end": [2.25, 2.5, 2.75],
        "json": f"{name}.json",
        **extra,
    }


def logging_doc() -> dict:
    sides = ("tb_rnngrad", "capture_only", "histogram", "histogram_fn", "bare")
    return {
        "params": {"reps": 15, "input": [16, 200, 8]},
        "results": {
            "sides": {
                s: {"ms": spread(40.0 + i), "cpu_ms": spread(70.0 + i)}
                for i, s in enumerate(sides)
            },
            "ratios": {
                f"{s}/bare": {"wall": spread(1.25 + i), "cpu": spread(1.5 + i)}
                for i, s in enumerate(sides[:-1])
            }
            | {"tb_rnngrad/histogram": {"wall": spread(0.75), "cpu": spread(0.8)}},
            "bytes_per_step": {"tb_rnngrad": 827634, "histogram": 1614},
            "values_per_step": 205824,
        },
    }


def drawing_doc() -> dict:
    parts = ("browser_heatmap", "browser_grid", "see_rnn_2d", "see_rnn_1d")
    parts += ("viz_heatmap", "viz_grid")
    return {
        "params": {"reps": 4, "shape": [16, 200, 64]},
        "results": {
            "sides": {p: {"ms": spread(6.5 * (i + 1))} for i, p in enumerate(parts)},
            "totals": {"browser": spread(16.25), "see_rnn": spread(3790.0)},
            "ratios": {"see_rnn/browser": spread(233.0)},
            "pixels": {p: [896 + i, 1320 + i] for i, p in enumerate(parts)},
            "browser_to_next_frame_ms": spread(20.5),
            "browser_one_sample_ms": spread(2.4),
            "parse_ms": 0.6,
        },
        "checks": [timing.check("speed-up vs see-rnn", 233.0, ">=", 30, "x")],
    }


def storage_doc() -> dict:
    way = {
        "label": "summary.gradients, float32 (GradientLogger)",
        "bytes_first_step": 822153,
        "bytes_per_later_step": 822081,
        "bytes_per_value": 4.0142,
    }
    return {
        "params": {"steps": 20, "shape": [16, 200, 64]},
        "results": {"ways": {"gradients_f32": way}},
    }


def scaling_doc() -> dict:
    sizes = [(100, 64), (200, 64), (200, 16)]
    names = [f"t{t}_c{c}" for t, c in sizes]
    views = ("both_ms", "heatmap_ms", "grid_ms")
    return {
        "params": {"batch": 16, "reps": {"route": 7}},
        "results": {
            "capture": [
                {
                    "timesteps": t,
                    "channels": c,
                    "values": 16 * t * c,
                    "ms": {
                        k: spread(5.0 * (i + 1) + j)
                        for j, k in enumerate(("capture_write", "floor", "write"))
                    },
                    "event_bytes_per_step": 4.5 * 16 * t * c + 2000,
                }
                for i, (t, c) in enumerate(sizes)
            ],
            "route": {
                "load_fast=false": {
                    n: {"ms": spread(2.0 + i)} for i, n in enumerate(names)
                }
            },
            "draw": {
                n: {v: spread(19.0 + 3 * i + j) for j, v in enumerate(views)}
                for i, n in enumerate(names)
            },
            "bptt": bptt_doc(),
        },
        "checks": [timing.check("`capture` growth 1000 -> 4000", 4.9, "<=", 5, "x")],
    }


def bptt_doc() -> dict:
    """The bptt stage of `scaling`: two lengths, capture and bare, rotated."""
    clocks = {"wall": spread(1.25), "cpu": spread(1.5)}
    return {
        "timesteps": [1000, 4000],
        "channels": 64,
        "batch": 16,
        "kinds": ["gradients", "state_gradients", "weight_contributions"],
        "reps": 7,
        "sides": {
            f"{side}_t{t}": {"ms": spread(150.5 * j + i), "cpu_ms": spread(125.5 * j)}
            for i, side in enumerate(("capture", "bare"))
            for j, t in enumerate((1000, 4000), start=1)
        },
        "ratio": {"t1000": clocks, "t4000": clocks},
        "growth": {"capture": clocks, "bare": clocks, "capture/bare": clocks},
    }


def capture_doc() -> dict:
    pair = {"a_ms": spread(34.75), "b_ms": spread(40.125), "ratio": spread(0.86)}
    pair |= {"a_cpu_ms": spread(30.5), "b_cpu_ms": spread(38.5)}
    sides = ("bare", "gradients", "state_gradients", "all", "norms")
    bptt = {
        "kinds": ["gradients", "state_gradients", "weight_contributions"],
        "reps": 15,
        "sides": {
            name: {
                "label": f"side {name}",
                "ms": spread(60.5 + i),
                "cpu_ms": spread(55.5 + i),
            }
            for i, name in enumerate(sides)
        },
        "ratios": {
            name: {"wall": spread(0.5 + i), "cpu": spread(0.75 + i)}
            for i, name in enumerate(sides[1:])
        },
    }
    return {
        "params": {"reps": 9, "fit_reps": 5},
        "results": {
            "rows": [
                {
                    "label": "(a) capture+write / bare fwd+bwd",
                    "ratio": 0.86,
                    "cpu_ratio": 0.76,
                    "spread": pair,
                },
                {"label": "logger's own time inside fit / fit time", "share": 0.009},
            ],
            "bptt": bptt,
        },
        "checks": [
            timing.check("(a) capture+write / bare", 0.86, "<=", 1.2, "x"),
            timing.check("(d) `capture`, three kinds / bare", 1.25, "<=", 1.5, "x"),
        ],
    }


def ratio_row(
    label: str, a: float, b: float, target: float | None, cpu_factor: float = 1.0
) -> dict:
    """A row of an A/B ratio table, A and B in ms."""
    return {
        "label": label,
        "ms": spread(a),
        "b_ms": spread(b),
        "ratio": spread(a / b),
        "cpu_ratio": spread(a / b * cpu_factor),
        "target": target,
    }


def torch_doc() -> dict:
    def row(label: str, a: float, b: float, target: float | None) -> dict:
        return ratio_row(label, a, b, target, cpu_factor=0.97)  # CPU a bit below

    return {
        "params": {"reps": 7, "train_reps": 3, "train_steps": 100},
        "results": {
            "rows": [
                row("(a) capture gradients / bare fwd+bwd", 15.5, 29.5, 1.2),
                row("(b) capture gradients + state_gradients / bare", 41.5, 29.5, 1.5),
                row(
                    "(c) 100 training steps: logger every 100 / none", 1230, 1210, 1.03
                ),
            ],
            "training": {"with_logger": {"logger_share": 0.0125}},
        },
        "checks": [
            timing.check("(a) capture gradients / bare", 0.525, "<=", 1.2, "x"),
            timing.check("(b) + state_gradients / bare", 1.407, "<=", 1.5, "x"),
        ],
    }


def backends_doc() -> dict:
    return {
        "params": {"reps": 9},
        "results": {
            "rows": [
                ratio_row("jax: capture gradients / bare fwd+bwd", 26.6, 44.8, 1.2),
                ratio_row(
                    "jax: capture + state kinds / bare fwd+bwd", 99.3, 44.8, None
                ),
            ]
        },
        "checks": [timing.check("jax: capture gradients / bare", 0.59, "<=", 1.2, "x")],
    }


def unrolled_doc() -> dict:
    return {
        "params": {"reps": 15, "train_reps": 3, "train_steps": 100},
        "results": {
            "rows": [
                ratio_row(
                    "(a) 20-step decoder loop: capture gradients + state_gradients "
                    "/ bare fwd+bwd",
                    31.5,
                    25.5,
                    1.5,
                ),
                ratio_row(
                    "(b) 100 training steps: logger every 100 / none", 2630, 2590, 1.03
                ),
            ],
            "training": {"with_logger": {"logger_share": 0.0112}},
            "keras": {"fit": {"with_logger": {"logger_share": 0.0212}}},
        },
        "checks": [
            timing.check("(a) capture + state_gradients / bare", 1.235, "<=", 1.5, "x"),
            timing.check("(b) logger every 100 / none", 1.015, "<=", 1.03, "x"),
        ],
    }


def weights_doc() -> dict:
    def compared(a: float, b: float) -> dict:
        return {
            "ratio": a / b,
            "cpu_ratio": a / b * 1.01,
            "spread": {
                "a_ms": spread(a),
                "b_ms": spread(b),
                "ratio": spread(a / b),
                "cpu_ratio": spread(a / b * 1.01),
            },
        }

    draw = "(b) Weights view, LSTM(256): kernel + recurrent kernel 256x1024"
    return {
        "params": {"kinds": ["gradients", "weights"], "fit_reps": 5},
        "results": {
            "fit": {
                "logger": compared(12350.5, 12150.5),
                "control": compared(12050.5, 12150.5),
                "logger_share": 0.0175,
                "fit_steps": 100,
            },
            "draw": {"ms": spread(31.5), "chromium": "Chromium 156"},
        },
        "checks": [
            timing.check("(a) fit: logger / none", 1.016, "<=", 1.03, "x"),
            timing.check(draw, 31.5, "<=", 50, "ms"),
        ],
    }


def browser_doc() -> dict:
    return {
        "params": {"reps": {"draw": 9}},
        "results": {
            "draw_ms": {"one 512x256 heatmap": spread(2.75)},
            "back_to_back": {"steps": 50, "steps_per_second": spread(518.5)},
            "scrub": {"one": {"steps": 50, "steps_per_second": spread(200.5)}},
        },
        "checks": [timing.check("one 512x256 heatmap", 17.5, "<=", 16, "ms")],
    }


def routes_doc() -> dict:
    tensor = {
        key: 1.25 + i
        for i, key in enumerate(
            "body_mib get_ms read_blob_ms ratio read_blob_best_ms best_ratio "
            "floor_ms floor_vs_read_blob floor_ratio image_ms image_ratio wsgi_ms "
            "wsgi_ratio impl_ms impl_ratio body_ratio sample_ms sample_ratio".split()
        )
    }
    profile = {"steps": 1000, "timesteps": 512, "gzip_ms": 3.04, "gzip_mib": 2.3}
    profile |= {"plain_ms": 4.5, "plain_mib": 6.7, "cold_ms": 619.0}
    memory_row = {
        "logdir": "memory_op",
        "mode": "load_fast=false",
        "retention": "default (rnngrad=50)",
        "kept": 50,
        "tensorboard_mib": 560.5,
        "data_server_mib": 52.5,
        "total_mib": 613.5,
    }
    return {
        "params": {"reps": 9, "sections": "abcd"},
        "results": {
            "tensor": {"load_fast=false": tensor},
            "profile": {"load_fast=false": profile | {"read_tensors_ms": 9.65}},
            "tags": {
                "load_fast=false": {"series": 400, "get_ms": 7.6, "listing_ms": 2.5}
            },
            "memory": {
                "steps": 300,
                "written_mib": {"memory_op": 235.5},
                "rows": [memory_row],
            },
        },
        "checks": [timing.check("`GET tags`", 7.6, "<=", 200, "ms")],
    }


def distribute_doc() -> dict:
    row = {
        "label": "(c) MirroredStrategy fit 100 steps: logger every 100 / none",
        "ms": spread(9100.0),
        "cpu_ms": spread(15200.0),
        "b_ms": spread(9000.0),
        "ratio": spread(1.011),
        "cpu_ratio": spread(1.007),
        "target": 1.03,
    }
    return {
        "params": {"reps": 4, "fit_steps": 100},
        "results": {"rows": [row], "logger_share": 0.0125},
        "checks": [timing.check(row["label"], 1.011, "<=", 1.03, "x")],
    }


def long_runs_doc() -> dict:
    label = "10,000 steps, the middle step chosen"
    return {
        "params": {"steps": 10000, "reps": 9},
        "results": {
            "profile": {
                "plain": {"ms": spread(61.0), "bytes": 14_200_000},
                "gzip": {"ms": spread(21.0), "bytes": 4_630_000},
            },
            "flow": {"parse_ms": 88.5, "draw_ms": {label: spread(12.5)}},
        },
        "checks": [timing.check(f"flow view draw, {label}", 12.5, "<=", 100, "ms")],
    }


def sweep_doc() -> dict:
    def mode(load: float, tags: float, cold: float, warm: float, mib: float) -> dict:
        return {
            "load_seconds": load,
            "tags_ms": spread(tags),
            "compare_ms": spread(warm),
            "compare_cold_ms": cold,
            "compare_bytes": 712345,
            "compare_runs": 200,
            "memory": {
                "tensorboard_mib": mib,
                "tensorboard_peak_mib": mib + 1.5,
                "data_server_mib": 61.5,
                "total_mib": mib + 61.5,
            },
        }

    fast = mode(3.5, 41.5, 905.5, 121.5, 455.5)
    fast["paint"] = {
        "after_iframe_load_ms": spread(431.5),
        "iframe_load_after_start_ms": spread(2211.5),
        "rows": 200,
    }
    return {
        "params": {"runs": 200, "tags": 3, "steps": 100, "shape": [2, 40, 4]},
        "results": {
            "write_seconds": 71.5,
            "logdir_mib": 151.5,
            "modes": {
                "load_fast=true": fast,
                "load_fast=false": mode(19.5, 12.5, 655.5, 301.5, 1234.5),
            },
        },
        "checks": [timing.check("`tags`, load_fast=true, warm", 41.5, "<=", 300, "ms")],
    }


def health_doc() -> dict:
    def spread_s(median: float) -> dict:
        return timing.spread([median * 0.9, median, median * 1.1])

    return {
        "params": {"runs": 200, "reps": 7, "fit_steps": 100},
        "results": {
            "check": {
                "command_s": spread_s(1.84),
                "check_only_s": spread_s(1.02),
                "load_and_check_s": {
                    "data_server": spread_s(1.41),
                    "multiplexer": spread_s(24.9),
                },
                "data_server_over_multiplexer": spread_s(0.057),
            },
            "route": {
                "load_fast=true": {"warm_ms": spread_s(60.6), "cold_ms": 2090.0},
                "load_fast=false": {"warm_ms": spread_s(73.1), "cold_ms": 1320.0},
            },
            "logger": {"ratio": spread_s(0.98), "check_share": 0.0042},
        },
        "checks": [
            timing.check("`tb-rnngrad check` over 200 runs", 1840, "<=", 2000, "ms")
        ],
    }


def budget_doc() -> dict:
    def spread_x(median: float) -> dict:
        return timing.spread([median - 0.02, median, median + 0.02])

    mode = {
        "memory": {"total_mib": 1128.0},
        "paint_after_iframe_load_ms": spread_x(784),
    }
    return {
        "params": {"reps": 2, "steps": 100},
        "logger": {
            "budget_bytes": 8388608,
            "log": {"budget": {"bytes": {"median": 8386850}}},
            "log_ratio": spread_x(0.85),
        },
        "served": {"modes": {"load_fast=true": mode}},
        "peak": {"ratio": spread_x(1.09)},
        "checks": [timing.check("capture peak RSS / bare fwd+bwd", 1.09, "<=", 2, "x")],
    }


DOCS = {
    "compare_logging": logging_doc,
    "compare_drawing": drawing_doc,
    "storage": storage_doc,
    "scaling": scaling_doc,
    "bench_capture": capture_doc,
    "bench_torch": torch_doc,
    "bench_backends": backends_doc,
    "bench_unrolled": unrolled_doc,
    "bench_weights": weights_doc,
    "bench_browser": browser_doc,
    "bench_routes": routes_doc,
    "bench_distribute": distribute_doc,
    "bench_long_runs": long_runs_doc,
    "bench_sweep": sweep_doc,
    "bench_health": health_doc,
    "bench_budget": budget_doc,
}


def full_run() -> tuple[dict, dict]:
    """(run.json, {name: document}) of a run where every benchmark succeeded."""
    machine = {
        "cpu": "Test CPU",
        "cores": 2,
        "usable_cores": 2,
        "ram_gib": 23.5,
        "os": "Test OS",
        "python": "3.11.7",
        "packages": {"tensorflow-cpu": "2.21.0"},
        "chromium": "Chromium 156",
        "load_average": [0.41, 1.2, 1.37],
    }
    run = {
        "started": "2026-01-01T00:00:00",
        "quick": False,
        "only": None,
        "command": ".venv/bin/python -m bench",
        "machine": machine,
        "benchmarks": [status(name) for name in DOCS],
        "benchmark_seconds": 354.5,
        "load_end": [0.83, 1.17, 1.31],
        "checks": [timing.check("full `make bench`", 5.9, "<=", 10, "min")],
    }
    return run, {name: make() for name, make in DOCS.items()}


def write_page(tmp_path, run: dict, docs: dict, page: str | None = None) -> bytes:
    out = tmp_path / "out"
    out.mkdir(parents=True)
    (out / "run.json").write_text(json.dumps(run))
    for name, doc in docs.items():
        (out / f"{name}.json").write_text(json.dumps(doc))
    doc = tmp_path / "docs" / "benchmarks.md"
    if page is not None:
        doc.parent.mkdir(parents=True)
        doc.write_bytes(page.encode())
    report.write(out, doc)
    return doc.read_bytes()


def perturbed(value, key=None, factors=None):
    """`value` with each number scaled by its own factor, but the sizes that
    name runs."""
    if factors is None:  # spread over [1.5, 9.5): ratios of numbers change too
        factors = (1.5 + 8 * (k * 0.6180339887 % 1) for k in itertools.count(1))
    if isinstance(value, dict):
        return {k: perturbed(v, k, factors) for k, v in value.items()}
    if isinstance(value, list):
        return [perturbed(v, key, factors) for v in value]
    if isinstance(value, bool) or key in ("timesteps", "channels"):
        return value
    if isinstance(value, int | float):
        scaled = value * next(factors) + 0.5
        return round(scaled) if isinstance(value, int) else scaled
    return value


NUMBER = re.compile(r"\d[\d,]*(?:\.\d+)?")


def strings_of(value) -> str:
    """Every string and key in `value`, joined: labels, names, commands, dates."""
    if isinstance(value, dict):
        return " ".join(f"{k} {strings_of(v)}" for k, v in value.items())
    if isinstance(value, list):
        return " ".join(strings_of(v) for v in value)
    return value if isinstance(value, str) else ""


@pytest.fixture
def no_figures(monkeypatch):
    """Skips drawing the scaling figures (matplotlib), for speed."""
    from bench import plots

    monkeypatch.setattr(plots, "scaling_figures", lambda doc, img: {})


def test_every_number_in_the_generated_part_comes_from_the_results(
    tmp_path, no_figures
):
    run, docs = full_run()
    page = ANALYSIS + "\n"
    before = write_page(tmp_path / "a", run, docs, page).decode()
    after = write_page(tmp_path / "b", perturbed(run), perturbed(docs), page).decode()
    named = set(NUMBER.findall(strings_of([run, docs])))
    lines_a = before.replace(ANALYSIS, "").splitlines()
    lines_b = after.replace(ANALYSIS, "").splitlines()
    assert len(lines_a) == len(lines_b)
    unchanged = [
        (line, number)
        for line, other in zip(lines_a, lines_b, strict=True)
        for number, same in zip(
            NUMBER.findall(line), NUMBER.findall(other), strict=False
        )
        if number == same and number not in named
    ]
    assert unchanged == [], "\n".join(map(str, unchanged))
    assert before.count("| ") > 100  # every benchmark wrote its tables


def test_the_page_shows_the_results_and_their_verdicts(tmp_path):
    run, docs = full_run()
    text = write_page(tmp_path, run, docs).decode()
    assert "| storage | " not in text  # storage has no targets
    assert (
        "| bench_browser | one 512x256 heatmap <= 16.0 ms | 17.5 ms | **not met** |"
        in text
    )
    assert "| compare_drawing | speed-up vs see-rnn >= 30x | 233x | met |" in text
    assert "| (the whole run) | full `make bench` <= 10 min | 5.9 min | met |" in text
    assert "| summary.gradients, float32 (GradientLogger) | 822,153 | 822,081 |" in text
    assert "| (a) capture+write / bare fwd+bwd | 34.8 ms (IQR 10.4 ms) |" in text
    assert "| `GET tags` | 7.60 ms |" in text
    assert "in the PyTorch loop with it: 1.1% of the loop." in text
    assert "in the Keras fit with it: 2.1% of the fit." in text
    assert "![Cost against timesteps](img/bench-scaling-timesteps.png)" in text
    assert (tmp_path / "docs" / "img" / "bench-scaling-timesteps.png").exists()
    assert "Command: `python -m bench.storage --reps 3`, 12 s, load average" in text
    assert report.NO_ANALYSIS in text


def test_the_hand_written_analysis_is_kept_byte_for_byte(tmp_path, no_figures):
    run, docs = full_run()
    old = "# Old page\n\n| old | table |\n\n" + ANALYSIS + "\n\nOld tables.\n"
    first = write_page(tmp_path / "a", run, docs, old)
    assert first.count(ANALYSIS.encode()) == 1
    assert b"Old page" not in first and b"Old tables" not in first
    again = write_page(tmp_path / "b", run, docs, first.decode())
    assert again == first


def test_an_analysis_without_its_end_marker_is_refused(tmp_path):
    run, docs = full_run()
    with pytest.raises(ValueError, match="no '<!-- end of the hand-written"):
        write_page(tmp_path, run, docs, report.ANALYSIS_START + "\nhalf\n")


def test_page_reports_failed_benchmarks_and_keeps_the_others(tmp_path):
    run, docs = full_run()
    failed = status(
        "compare_drawing",
        ok=False,
        error="exit status 1",
        log_tail="RuntimeError: no browser",
        json=None,
    )
    run["benchmarks"] = [status("storage"), failed]
    text = write_page(tmp_path, run, {"storage": docs["storage"]}).decode()
    assert "Test CPU, 2 cores (2 usable)" in text
    assert "## `storage`: what storage measures" in text
    assert "| summary.gradients, float32 (GradientLogger) | 822,153 |" in text
    assert "No results: this benchmark failed (exit status 1)" in text
    assert "## Failures in this run" in text
    assert "RuntimeError: no browser" in text


def test_the_committed_page_has_a_hand_written_analysis_to_keep():
    kept = report.analysis(DOC)
    assert kept.startswith(report.ANALYSIS_START) and kept != report.NO_ANALYSIS


def test_a_partial_run_says_so_and_names_the_benchmarks_it_lacks(tmp_path):
    run, docs = full_run()
    run |= {"only": "storage", "benchmarks": [status("storage")]}
    del run["checks"]
    text = write_page(tmp_path, run, {"storage": docs["storage"]}).decode()
    assert "These tables are the partial run of 2026-01-01T00:00:00" in text
    assert "Not run here: `compare_logging`, `compare_drawing`, `scaling`," in text
    assert "## `compare_drawing`" not in text


def test_merge_adds_an_earlier_runs_results_for_the_other_benchmarks(tmp_path):
    from bench import __main__ as bench_main

    earlier_run, docs = full_run()
    earlier = tmp_path / "earlier"
    earlier.mkdir()
    (earlier / "run.json").write_text(json.dumps(earlier_run))
    for name, doc in docs.items():
        (earlier / f"{name}.json").write_text(json.dumps(doc))
    out = tmp_path / "out"
    out.mkdir()
    (out / "scaling.json").write_text(json.dumps(docs["scaling"]))
    summary = {
        "started": "2026-02-02T00:00:00",
        "quick": False,
        "only": "scaling",
        "command": ".venv/bin/python -m bench --only scaling --merge earlier",
        "machine": earlier_run["machine"],
        "benchmarks": [status("scaling")],
    }
    bench_main.merge(summary, out, earlier)
    names = [b["name"] for b in summary["benchmarks"]]
    assert names == [b.name for b in bench_main.PLAN]
    kept = [b for b in summary["benchmarks"] if "run" in b]
    assert len(kept) == len(names) - 1
    assert all(b["run"]["started"] == "2026-01-01T00:00:00" for b in kept)
    assert (out / "compare_drawing.json").exists()
    assert bench_main._default_doc(summary, out) == DOC

    (out / "run.json").write_text(json.dumps(summary))
    page = tmp_path / "docs" / "benchmarks.md"
    report.write(out, page)
    text = page.read_text()
    assert "These tables are the partial run of 2026-02-02T00:00:00" in text
    assert "are those of the run of 2026-01-01T00:00:00" in text
    assert "Not run here" not in text
    assert "| compare_drawing | speed-up vs see-rnn >= 30x | 233x | met |" in text
    assert "Measured in the run of 2026-01-01T00:00:00." in text
    assert "| `storage` | ok (run of 2026-01-01T00:00:00) |" in text


def test_merge_refuses_a_run_of_the_other_kind(tmp_path):
    from bench import __main__ as bench_main

    earlier_run, _ = full_run()
    (tmp_path / "run.json").write_text(json.dumps(earlier_run | {"quick": True}))
    summary = {"quick": False, "benchmarks": []}
    with pytest.raises(SystemExit, match="merge runs of one kind"):
        bench_main.merge(summary, tmp_path / "out", tmp_path)


def test_health_and_budget_tables_show_their_figures():
    from bench.report_tables import TABLES

    health = "\n".join(TABLES["bench_health"](health_doc(), {}))
    assert "| whole command, fresh interpreter | 1.84 s (IQR" in health
    assert "| load_fast=false | 73.1 ms (IQR" in health
    assert "| through the multiplexer | 24.90 s (IQR" in health
    assert "Data server / multiplexer: 0.06x" in health
    assert "the check's own time inside the fit: 0.42% of it" in health
    budget = "\n".join(TABLES["bench_budget"](budget_doc(), {}))
    assert "8,386,850 of a budget of 8,388,608 (99.98%)" in budget
    assert "| load_fast=true | 1128 MiB | 784 ms" in budget
