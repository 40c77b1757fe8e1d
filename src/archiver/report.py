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
TIER_COLOURS = {DOI_GRADE: "#1b7f3b", WATCHLIST: "#b7791f", QUARANTINE: "#c53030", None: "#718096"}

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem;color:#1a202c;max-width:1200px}
h1{font-size:1.5rem;margin:0 0 .25rem} h2{font-size:1.15rem;margin-top:2rem}
.muted{color:#4a5568} .totals{display:flex;flex-wrap:wrap;gap:.75rem;margin:1rem 0}
.card{border:1px solid #e2e8f0;border-radius:6px;padding:.5rem .9rem;min-width:7rem}
.card b{display:block;font-size:1.4rem}
table{border-collapse:collapse;width:100%;font-size:13px} th,td{border-bottom:1px solid #e2e8f0;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f7fafc;position:sticky;top:0} .yes{color:#1b7f3b;font-weight:600} .no{color:#718096}
.near{background:#fffaf0} .invalid{background:#fff5f5} .error{color:#9b2c2c;margin-bottom:.2rem}
.warning{color:#975a16;margin-bottom:.2rem}
code{font-size:12px;white-space:nowrap} .error code{white-space:normal} svg text{font-size:11px;fill:#2d3748}
"""


class HtmlReport:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.rows: list[dict] = []
        self.invalid_rows: list[dict] = []
        self.total_rows = 0
        self.total_invalid = 0
        self.bins: dict[tuple[float, int, str | None], int] = {}
        self.near_misses = 0

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
                }
            )
        if score is not None:
            key = (round(score, 1), min(claims or 0, MAX_CLAIMS_AXIS), computed)
            self.bins[key] = self.bins.get(key, 0) + 1

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
            parts.append(
                f'<circle cx="{x(score):.1f}" cy="{y(claims):.1f}" r="{radius:.1f}" fill="{TIER_COLOURS.get(computed, "#718096")}" '
                f'fill-opacity="0.6"><title>score {score:g}, {claims} claims, {html.escape(str(computed))}: {count}</title></circle>'
            )
        parts.append("</svg>")
        return "\n".join(parts)

    def _table(self) -> str:
        head = (
            "<tr><th>id</th><th>source</th><th>score</th><th>claims</th><th>declared</th><th>computed</th>"
            "<th>eligible</th><th>reasons</th><th>errors</th><th>warnings</th><th>next action</th></tr>"
        )
        body = []
        for row in (*self.invalid_rows, *self.rows):  # what needs fixing first, every one of it
            css = ' class="invalid"' if not row["valid"] else (' class="near"' if row["near"] else "")
            score = "" if row["score"] is None else f"{row['score']:g}"
            claims = "" if row["claims"] is None else str(row["claims"])
            eligible = '<span class="yes">yes</span>' if row["eligible"] else '<span class="no">no</span>'
            reasons = " ".join(f"<code>{html.escape(r)}</code>" for r in row["reasons"])
            errors = "".join(
                f'<div class="error"><code>{html.escape(code)}</code> {html.escape(message)}</div>' for code, message in row["errors"]
            )
            warnings = "".join(
                f'<div class="warning"><code>{html.escape(code)}</code> {html.escape(message)}</div>' for code, message in row["warnings"]
            )
            computed = "" if not row["valid"] else html.escape(row["computed"] or "unknown")
            body.append(
                f"<tr{css}><td>{html.escape(row['id'] or '(no id)')}</td><td>{html.escape(printable_path(row['source']))}</td>"
                f"<td>{score}</td><td>{claims}</td><td>{html.escape(row['declared'] or '')}</td>"
                f"<td>{computed}</td><td>{eligible}</td><td>{reasons}</td><td>{errors}</td><td>{warnings}</td>"
                f"<td>{html.escape(row['next_action'])}</td></tr>"
            )
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
<p class="muted">Computed tiers: {tiers or 'none'}.</p>
<h2>Review score against verified claims</h2>
<p class="muted">Dashed lines are the policy thresholds; the shaded corner is DOI grade. Records without a review score are not plotted.</p>
{self._chart()}
<h2>Eligibility</h2>
<p class="muted">Yellow rows are near misses: within 0.5 points of the score threshold or 2 claims of the claims threshold.
Red rows are invalid records, listed first, with their errors (the first {MAX_ERRORS_SHOWN} of each; report.json has them all);
warnings are shown beside each record.</p>
{self._table()}
</body></html>
"""
        path.write_text(page, encoding="utf-8")
