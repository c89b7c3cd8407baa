"""The evaluation report: scores per kind, check and destination, every failing answer with why; JSON, HTML, compare."""

from __future__ import annotations

import html
from collections import Counter, defaultdict
from collections.abc import Sequence

from augment.evaluate.score import CHECKS, applies, score
from augment.probes.probe import KINDS, Probe


def _share(passed: int, total: int) -> float:
    return round(passed / total, 4) if total else 0.0


def build_report(probes: Sequence[Probe], answers: dict[str, str], errors: dict[str, str], meta: dict) -> dict:
    """Score every answered probe and return the report: totals, per kind, check and place, and each result."""
    results, tallies = [], defaultdict(lambda: [0, 0])  # name -> [passed, total]
    reasons = Counter()
    for probe in probes:
        if probe.id not in answers:
            continue
        failures = score(probe, answers[probe.id])
        failed_checks = {check for check, _ in failures}
        passed = not failures
        for name in (f"kind:{probe.kind}", f"place:{probe.place}", "all"):
            tallies[name][0] += passed
            tallies[name][1] += 1
        for check in applies(probe):
            tallies[f"check:{check}"][0] += check not in failed_checks
            tallies[f"check:{check}"][1] += 1
        reasons.update(reason for _, reason in failures)
        results.append({
            "id": probe.id, "kind": probe.kind, "place": probe.place, "register": probe.register,
            "question": probe.question, "context": probe.context, "answer": answers[probe.id], "passed": passed,
            "failures": [{"check": check, "reason": reason} for check, reason in failures],
            "false_claim": probe.expect.get("false_claim", ""),
        })

    def table(prefix: str, names) -> dict:
        return {n: {"passed": tallies[f"{prefix}:{n}"][0], "total": tallies[f"{prefix}:{n}"][1],
                    "score": _share(*tallies[f"{prefix}:{n}"])} for n in names if tallies[f"{prefix}:{n}"][1]}

    places = sorted({probe.place for probe in probes})
    return {
        **meta,
        "probes": len(probes), "answered": len(results), "unanswered": dict(sorted(errors.items())),
        "passed": tallies["all"][0], "score": _share(*tallies["all"]),
        "by_kind": table("kind", KINDS), "by_check": table("check", CHECKS), "by_place": table("place", places),
        "failures_by_reason": dict(reasons.most_common()), "results": results,
    }


def scores(report: dict) -> dict[str, float]:
    """Return every score of a report by name: "all", each kind and each check."""
    named = {"all": report["score"]}
    named |= {kind: row["score"] for kind, row in report["by_kind"].items()}
    named |= {check: row["score"] for check, row in report["by_check"].items()}
    return named


def compare(before: dict, after: dict) -> dict:
    """Return each score before and after, and the change, for two reports of the same probes."""
    old, new = scores(before), scores(after)
    rows = {name: {"before": old.get(name), "after": new.get(name),
                   "change": round(new[name] - old[name], 4) if name in old and name in new else None}
            for name in dict.fromkeys([*old, *new])}
    return {"before": before.get("model", ""), "after": after.get("model", ""), "scores": rows}


def compare_text(comparison: dict) -> str:
    """Return the comparison as an aligned text table."""
    lines = [f"{'score':<12} {'before':>8} {'after':>8} {'change':>8}   ({comparison['before']} -> {comparison['after']})"]
    for name, row in comparison["scores"].items():
        cells = [f"{row[k]:.1%}" if row[k] is not None else "-" for k in ("before", "after")]
        change = f"{row['change']:+.1%}" if row["change"] is not None else "-"
        lines.append(f"{name:<12} {cells[0]:>8} {cells[1]:>8} {change:>8}")
    return "\n".join(lines)


_STYLE = """body{font:14px/1.45 system-ui,sans-serif;margin:2em;max-width:70em}table{border-collapse:collapse;margin:.5em 0 1.5em}
td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}th{background:#f3f3f3}.bad{color:#a40000}
.fail{border:1px solid #e3b3b3;background:#fff7f7;padding:.5em 1em;margin:.8em 0}pre{white-space:pre-wrap;margin:.3em 0}"""


def _rows(title: str, table: dict) -> str:
    body = "".join(f"<tr><td>{html.escape(str(name))}</td><td>{row['passed']}/{row['total']}</td><td>{row['score']:.1%}</td></tr>"
                   for name, row in table.items())
    return f"<h2>{html.escape(title)}</h2><table><tr><th>{html.escape(title.split()[-1])}</th><th>passed</th><th>score</th></tr>{body}</table>"


def _failure(result: dict) -> str:
    why = ", ".join(f"{f['check']}: {f['reason']}" for f in result["failures"])
    parts = [f"<div class='fail'><b>{html.escape(result['id'])}</b> ({html.escape(result['kind'])}, {html.escape(result['place'])})"
             f" <span class='bad'>{html.escape(why)}</span>"]
    if result["false_claim"]:
        parts.append(f"<div>false premise: {html.escape(result['false_claim'])}</div>")
    if result["context"]:
        parts.append(f"<div>context:</div><pre>{html.escape(result['context'])}</pre>")
    parts.append(f"<div>question:</div><pre>{html.escape(result['question'])}</pre><div>answer:</div><pre>{html.escape(result['answer'])}</pre></div>")
    return "".join(parts)


def render_html(report: dict) -> str:
    """Return the report as one self-contained HTML page (no script, no external file), every text escaped."""
    head = f"{report.get('model', '')} at {report.get('base_url', '')}"
    failing = [r for r in report["results"] if not r["passed"]]
    unanswered = "".join(f"<li>{html.escape(pid)}: {html.escape(reason)}</li>" for pid, reason in report["unanswered"].items())
    reasons = "".join(f"<tr><td>{html.escape(r)}</td><td>{n}</td></tr>" for r, n in report["failures_by_reason"].items())
    return (
        f"<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'><title>Probe evaluation: {html.escape(head)}</title>"
        f"<style>{_STYLE}</style></head><body><h1>Probe evaluation: {html.escape(head)}</h1>"
        f"<p>{report['passed']} of {report['answered']} answered probes passed ({report['score']:.1%}); "
        f"{len(report['unanswered'])} of {report['probes']} got no answer.</p>"
        + _rows("Scores per kind", report["by_kind"]) + _rows("Scores per check", report["by_check"])
        + _rows("Scores per place", report["by_place"])
        + f"<h2>Failures by reason</h2><table><tr><th>reason</th><th>answers</th></tr>{reasons}</table>"
        + (f"<h2>Unanswered</h2><ul>{unanswered}</ul>" if unanswered else "")
        + f"<h2>Failing answers ({len(failing)})</h2>" + "".join(map(_failure, failing)) + "</body></html>\n"
    )


def render_compare_html(comparison: dict) -> str:
    """Return the comparison as one self-contained HTML page."""
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td>" + "".join(
            f"<td>{row[k]:.1%}</td>" if row[k] is not None else "<td>-</td>" for k in ("before", "after"))
        + (f"<td class='{'bad' if row['change'] < 0 else ''}'>{row['change']:+.1%}</td>" if row["change"] is not None else "<td>-</td>")
        + "</tr>" for name, row in comparison["scores"].items())
    title = f"{comparison['before']} -> {comparison['after']}"
    return (f"<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'><title>Probe comparison: {html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>Probe comparison: {html.escape(title)}</h1><table><tr><th>score</th>"
            f"<th>before</th><th>after</th><th>change</th></tr>{rows}</table></body></html>\n")
