"""The health report as plain text (`tb-rnngrad check`, `tb-rnngrad summary`)."""

from __future__ import annotations

from tb_rnngrad.health.logs import Report


def _printable(text: str) -> str:
    """Run and tag names are untrusted: control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def report_text(report: Report) -> str:
    """One block per run: its status, then each finding with where it is,
    the message and the hint; then what could not be checked."""
    lines = []
    for run in sorted(report.runs):
        found = report.runs[run]
        lines.append(f"{_printable(run)}: {report.status(run)}")
        for f in found:
            where = [f"step {f.step}"]
            where += [
                f"{name} {value}"
                for name, value in (
                    ("timestep", f.timestep),
                    ("sample", f.sample),
                    ("gate", f.gate),
                )
                if value is not None
            ]
            lines.append(
                f"  {f.severity} {f.code} in {_printable(f.layer)} "
                f"({_printable(f.tag)}, {', '.join(where)}): {f.message}"
            )
            lines.append(f"    try: {f.hint}")
        for note in report.notes.get(run, []):
            lines.append(f"  note: {_printable(note)}")
    return "\n".join(lines)
