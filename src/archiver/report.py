"""report.html: a self-contained page for curators (totals, eligibility table, score-vs-claims chart).

Memory stays bounded whatever the batch size: the table keeps its first rows and the chart bins
points by (score to 0.1, claims capped), so a million records cost the same as a thousand.
"""

from __future__ import annotations

import html
from pathlib import Path

from archiver.fsutil import printable_path
from archiver.policy import Policy, format_score
from archiver.vocabulary import DOI_GRADE, QUARANTINE, WATCHLIST

MAX_TABLE_ROWS = 1000  # valid records shown; the invalid ones come first, all of them up to MAX_INVALID_ROWS
MAX_INVALID_ROWS = 10_000
MAX_ERRORS_SHOWN = 5  # per invalid record; report.json has them all
MAX_CLAIMS_AXIS = 40
FIX_FIRST_SHOWN = 10  # invalid records named at the top of the page; the table lists every one
TIER_COLOURS = {DOI_GRADE: "#1b7f3b", WATCHLIST: "#b7791f", QUARANTINE: "#c53030", None: "#718096"}

CSS = """
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;padding:0 1rem;color:#1a202c;max-width:1200px}
h1{font-size:1.5rem;margin:0 0 .25rem} h2{font-size:1.15rem;margin-top:2rem}
.muted{color:#4a5568} .totals{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{border:1px solid #e2e8f0;border-radius:6px;padding:.5rem .9rem;min-width:7rem}
.card b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;font-size:13px;table-layout:fixed}
th,td{border-bottom:1px solid #e2e8f0;padding:.3rem .5rem;text-align:left;vertical-align:top;overflow-wrap:anywhere}
th{background:#f7fafc;position:sticky;top:0} .yes{color:#1b7f3b;font-weight:600} .no{color:#718096}
.near{background:#fffaf0} .invalid{background:#fff5f5} .error{color:#9b2c2c;margin-bottom:.2rem}
.warning{color:#975a16;margin-bottom:.2rem}
code{font-size:12px} svg text{font-size:11px;fill:#2d3748} .bad{color:#9b2c2c;font-weight:600}
.legend{display:flex;flex-wrap:wrap;gap:1rem;margin:.3rem 0;padding:0;list-style:none}
.legend i{display:inline-block;width:.8rem;height:.8rem;border-radius:50%;margin-right:.3rem;opacity:.7;vertical-align:-1px}
.fix{border:2px solid #feb2b2;border-radius:8px;padding:.5rem 1rem;margin:1rem 0} .fix h2{margin-top:.3rem}
"""


def _score_and_claims(score: float | None, claims: int | None) -> str:
    """A record's score and claims as the table shows them: a value outside its range said so."""
    if score is None:
        shown = "no score"
    elif 0 <= score <= 10:
        shown = f"{score:g}"
    else:
        shown = f'<span class="bad">{score:g} (outside 0&ndash;10)</span>'
    if claims is None:
        return f"{shown} &middot; no claims"
    if claims < 0:
        return f'{shown} &middot; <span class="bad">{claims} (below 0)</span>'
    return f"{shown} &middot; {claims}"


class HtmlReport:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.rows: list[dict] = []
        self.invalid_rows: list[dict] = []
        self.total_rows = 0
        self.total_invalid = 0
        self.bins: dict[tuple[float, int, str | None], int] = {}
        self.near_misses = 0
        self.beyond_axis = 0  # records with more claims than the chart's axis shows (plotted at its end)

    def is_near_miss(self, score: float | None, claims: int | None, computed: str | None) -> bool:
        """Not DOI grade, but within 0.5 points of the score bar or 2 claims of the claims bar."""
        if score is None or computed == DOI_GRADE:
            return False
        claims = claims or 0
        p = self.policy
        score_close = p.doi_min_score - 0.5 <= score < p.doi_min_score and claims >= p.doi_min_verified_claims
        claims_close = score >= p.doi_min_score and p.doi_min_verified_claims - 2 <= claims < p.doi_min_verified_claims
        return score_close or claims_close

    def add(
        self,
        *,
        record_id: str | None,
        source: str,
        valid: bool,
        score: float | None,
        claims: int | None,
        declared: str | None,
        computed: str | None,
        eligible: bool,
        reasons,
        next_action: str,
        errors=(),
        warnings=(),
        doi: str | None = None,
    ) -> None:
        self.total_rows += 1
        self.total_invalid += not valid
        near = self.is_near_miss(score, claims, computed)
        self.near_misses += near
        rows, cap = (self.rows, MAX_TABLE_ROWS) if valid else (self.invalid_rows, MAX_INVALID_ROWS)
        if len(rows) < cap:
            rows.append(
                {
                    "id": record_id,
                    "source": source,
                    "valid": valid,
                    "score": score,
                    "claims": claims,
                    "declared": declared,
                    "computed": computed,
                    "eligible": eligible,
                    "reasons": list(reasons),
                    "next_action": next_action,
                    "near": near,
                    "errors": [(code, message) for code, message in errors][:MAX_ERRORS_SHOWN],
                    "warnings": [(code, message) for code, message in warnings][:MAX_ERRORS_SHOWN],
                    "doi": doi,
                }
            )
        if valid and score is not None:  # an invalid record's values are not the record's: never plotted
            key = (round(score, 1), min(claims or 0, MAX_CLAIMS_AXIS), computed)
            self.bins[key] = self.bins.get(key, 0) + 1
            self.beyond_axis += (claims or 0) > MAX_CLAIMS_AXIS

    def add_outcome(self, outcome) -> None:
        """One export Outcome (see archiver.export)."""
        self.add(
            record_id=outcome.record_id,
            source=outcome.source,
            valid=outcome.valid,
            score=outcome.score,
            claims=outcome.claims,
            declared=outcome.declared_tier,
            computed=outcome.computed_tier,
            eligible=outcome.eligible,
            reasons=outcome.reasons,
            next_action=outcome.next_action,
            errors=outcome.errors,
            warnings=outcome.warnings,
            doi=outcome.doi,
        )

    def add_entry(self, entry: dict, score: float | None, claims: int | None) -> None:
        """One report.json entry, with the score and claims of its manifest."""
        self.add(
            record_id=entry["id"],
            source=entry["source"],
            valid=entry["valid"],
            score=score,
            claims=claims,
            declared=entry["tier"]["declared"],
            computed=entry["tier"]["computed"],
            eligible=entry["eligible"],
            reasons=entry["reasons"],
            next_action=entry["next_action"],
            errors=[(error["code"], error["message"]) for error in entry["errors"]],
            warnings=[(warning["code"], warning["message"]) for warning in entry.get("warnings", [])],
            doi=entry.get("doi"),
        )

    # ------------------------------------------------------------------ rendering

    def _chart(self) -> str:
        width, height, left, bottom, top, right = 720, 380, 48, 36, 12, 16
        max_claims = max([self.policy.doi_min_verified_claims + 5] + [k[1] + 1 for k in self.bins])
        plot_w, plot_h = width - left - right, height - top - bottom

        def x(score: float) -> float:
            return left + score / 10 * plot_w

        def y(claims: float) -> float:
            return top + plot_h - claims / max_claims * plot_h

        p = self.policy
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" role="img" '
            'aria-label="Review score against verified claims">',
            f'<rect x="{x(p.doi_min_score):.1f}" y="{top}" width="{x(10) - x(p.doi_min_score):.1f}" '
            f'height="{y(p.doi_min_verified_claims) - top:.1f}" fill="#f0fff4"/>',
        ]
        for tick in range(0, 11):
            parts.append(f'<line x1="{x(tick):.1f}" y1="{top + plot_h}" x2="{x(tick):.1f}" y2="{top + plot_h + 4}" stroke="#4a5568"/>')
            parts.append(f'<text x="{x(tick):.1f}" y="{top + plot_h + 16}" text-anchor="middle">{tick}</text>')
        step = max(1, max_claims // 8)
        for tick in range(0, max_claims + 1, step):
            parts.append(f'<line x1="{left - 4}" y1="{y(tick):.1f}" x2="{left}" y2="{y(tick):.1f}" stroke="#4a5568"/>')
            parts.append(f'<text x="{left - 7}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
        parts.append(f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#4a5568"/>')
        parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#4a5568"/>')
        parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 4}" text-anchor="middle">review score (/10)</text>')
        parts.append(
            f'<text x="12" y="{top + plot_h / 2:.1f}" text-anchor="middle" transform="rotate(-90 12 {top + plot_h / 2:.1f})">verified claims</text>'
        )
        for value, label, colour in (
            (p.quarantine_below, f"quarantine below {format_score(p.quarantine_below)}", "#c53030"),
            (p.doi_min_score, f"DOI grade from {format_score(p.doi_min_score)}", "#1b7f3b"),
        ):
            parts.append(f'<line x1="{x(value):.1f}" y1="{top}" x2="{x(value):.1f}" y2="{top + plot_h}" stroke="{colour}" stroke-dasharray="5 4"/>')
            parts.append(f'<text x="{x(value) + 4:.1f}" y="{top + 12}" fill="{colour}">{html.escape(label)}</text>')
        claims_line = y(p.doi_min_verified_claims)
        parts.append(f'<line x1="{left}" y1="{claims_line:.1f}" x2="{left + plot_w}" y2="{claims_line:.1f}" stroke="#1b7f3b" stroke-dasharray="5 4"/>')
        parts.append(
            f'<text x="{left + 6}" y="{claims_line - 5:.1f}" fill="#1b7f3b">{p.doi_min_verified_claims} verified claims</text>'
        )
        for (score, claims, computed), count in sorted(self.bins.items(), key=lambda kv: (kv[0][0], kv[0][1], str(kv[0][2]))):
            radius = min(3 + count**0.5, 14)
            shown = f"{claims}+ claims (beyond the axis)" if claims >= MAX_CLAIMS_AXIS else f"{claims} claims"
            parts.append(
                f'<circle cx="{x(score):.1f}" cy="{y(claims):.1f}" r="{radius:.1f}" fill="{TIER_COLOURS.get(computed, "#718096")}" '
                f'fill-opacity="0.6"><title>score {score:g}, {shown}, {html.escape(computed or "no tier")}: {count} '
                f'record{"s" if count != 1 else ""}</title></circle>'
            )
        parts.append("</svg>")
        return "\n".join(parts)

    def _row(self, row: dict) -> str:
        css = ' class="invalid"' if not row["valid"] else (' class="near"' if row["near"] else "")
        record = html.escape(row["id"] or "(no id)")
        if row["doi"]:
            doi = html.escape(row["doi"])
            record += f'<br><a href="https://doi.org/{doi}">{doi}</a>'
        record += f'<br><span class="muted">{html.escape(printable_path(row["source"]))}</span>'
        eligible = '<span class="yes">yes</span>' if row["eligible"] else '<span class="no">no</span>'
        reasons = " ".join(f"<code>{html.escape(r)}</code>" for r in row["reasons"])
        problems = "".join(
            f'<div class="{kind}"><code>{html.escape(code)}</code> {html.escape(message)}</div>'
            for kind, items in (("error", row["errors"]), ("warning", row["warnings"])) for code, message in items
        )
        declared = html.escape(row["declared"] or "none declared")
        tier = f"{declared} &rarr; {html.escape(row['computed'] or 'unknown')}" if row["valid"] else declared
        return (f"<tr{css}><td>{record}</td><td>{_score_and_claims(row['score'], row['claims'])}</td><td>{tier}</td>"
                f"<td>{eligible}</td><td>{reasons}</td><td>{problems}</td><td>{html.escape(row['next_action'])}</td></tr>")

    def _table(self) -> str:
        head = (
            '<colgroup><col style="width:15%"><col style="width:9%"><col style="width:13%"><col style="width:6%">'
            '<col style="width:14%"><col style="width:26%"><col></colgroup>'
            "<tr><th>record</th><th>score &middot; claims</th><th>tier (declared &rarr; computed)</th><th>eligible</th>"
            "<th>reasons</th><th>errors and warnings</th><th>next action</th></tr>"
        )
        body = [self._row(row) for row in (*self.invalid_rows, *self.rows)]  # what needs fixing first, every one of it
        valid_total = self.total_rows - self.total_invalid
        parts = []
        if self.total_invalid:
            shown = len(self.invalid_rows)
            parts.append(
                f"all {self.total_invalid:,} invalid records" if shown == self.total_invalid
                else f"the first {shown:,} of {self.total_invalid:,} invalid records"
            )
        if valid_total > len(self.rows):
            parts.append(f"then the first {len(self.rows):,} of {valid_total:,} valid records")
        hidden = self.total_rows - len(self.rows) - len(self.invalid_rows)
        note = ""
        if hidden:
            note = (f'<p class="muted">Showing {", ".join(parts)}; {hidden:,} records are not shown here, '
                    "and report.json has them all.</p>")
        return f"{note}<table>{head}{''.join(body)}</table>"

    def _to_fix(self) -> str:
        """The invalid records, first on the page: what to fix before anything else."""
        if not self.total_invalid:
            return ""
        items = "".join(
            f"<li><b>{html.escape(row['id'] or '(no id)')}</b> <span class=\"muted\">{html.escape(printable_path(row['source']))}</span>: "
            + "; ".join(f"<code>{html.escape(code)}</code> {html.escape(message)}" for code, message in row["errors"][:2])
            + "</li>"
            for row in self.invalid_rows[:FIX_FIRST_SHOWN]
        )
        more = self.total_invalid - min(len(self.invalid_rows), FIX_FIRST_SHOWN)
        tail = f'<p class="muted">and {more:,} more: every one in the table below, first, and in report.json.</p>' if more > 0 else ""
        return (f'<section class="fix"><h2>{self.total_invalid:,} invalid record{"s" if self.total_invalid != 1 else ""} to fix '
                f"first</h2><ul>{items}</ul>{tail}</section>")

    def _legend(self) -> str:
        tiers = ((DOI_GRADE, TIER_COLOURS[DOI_GRADE]), (WATCHLIST, TIER_COLOURS[WATCHLIST]), (QUARANTINE, TIER_COLOURS[QUARANTINE]),
                 ("no computed tier", TIER_COLOURS[None]))
        items = "".join(f'<li><i style="background:{colour}"></i>{html.escape(name)}</li>' for name, colour in tiers)
        beyond = (f"; {self.beyond_axis:,} record(s) with more than {MAX_CLAIMS_AXIS} claims are drawn at the axis' end"
                  if self.beyond_axis else "")
        return (f'<ul class="legend">{items}<li>a larger circle: more records at that point (hover for the count){beyond}</li></ul>')

    def write(self, path: Path, totals: dict, created: str) -> None:
        cards = [
            ("records", totals["records"]),
            ("valid", totals["valid"]),
            ("invalid", totals["invalid"]),
            ("eligible for deposit", totals["eligible"]),
            ("already registered", totals["already_registered"]),
            ("near misses", self.near_misses),
        ]
        tiers = ", ".join(f"{html.escape(k)}: {v:,}" for k, v in totals["computed_tiers"].items())
        p = self.policy
        page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>archiver export report</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body>
<h1>archiver export report</h1>
<p class="muted">Created {html.escape(created)}. Policy: quarantine below {format_score(p.quarantine_below)}; DOI grade at review score
&ge; {format_score(p.doi_min_score)} and &ge; {p.doi_min_verified_claims} verified claims; licence {html.escape(p.license)}.</p>
<div class="totals">{''.join(f'<div class="card"><b>{value:,}</b>{html.escape(label)}</div>' for label, value in cards)}</div>
{self._to_fix()}
<p class="muted">Computed tiers: {tiers or 'none'}.</p>
<h2>Review score against verified claims</h2>
<p class="muted">Valid records only. Dashed lines are the policy thresholds; the shaded corner is DOI grade. Records without a
review score are not plotted.</p>
{self._legend()}
{self._chart()}
<h2>Eligibility</h2>
<p class="muted">Yellow rows are near misses: within 0.5 points of the score threshold or 2 claims of the claims threshold.
Red rows are invalid records, listed first, with their errors (the first {MAX_ERRORS_SHOWN} of each; report.json has them all);
warnings are shown beside each record.</p>
{self._table()}
</body></html>
"""
        path.write_text(page, encoding="utf-8")
