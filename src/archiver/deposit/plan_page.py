"""plan.html: the review page of a dry run, the curator's last look before a DOI that cannot be withdrawn.

Self-contained (no script, no fetched style or font), readable at 1280 px: a summary of actions,
then per record what will be sent, as the landing page will show it, with the changes field by
field for an update or a new version; the records held back or not going, with their reasons. Every
value is escaped except the description, which is archiver's own HTML (its record text escaped).
"""

from __future__ import annotations

import html
import json

STYLE = """
*{box-sizing:border-box} body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem auto;padding:0 1rem;
color:#1a202c;max-width:1180px;overflow-wrap:anywhere} h1{font-size:1.5rem;margin:0 0 .25rem} h2{font-size:1.15rem;margin:2rem 0 .5rem}
.muted{color:#4a5568} .counts{display:flex;flex-wrap:wrap;gap:.6rem;margin:1rem 0;padding:0;list-style:none}
.counts li{border:1px solid #e2e8f0;border-radius:6px;padding:.4rem .8rem} .counts b{font-size:1.2rem;margin-right:.3rem}
.record{border:1px solid #cbd5e0;border-radius:8px;padding:1rem 1.2rem;margin:1rem 0}
.record h3{margin:.2rem 0 .4rem;font-size:1.2rem} .action{display:inline-block;border-radius:4px;padding:0 .45rem;font-weight:600;
background:#ebf8ff;color:#2a4365} .action.update,.action.new-version{background:#fefcbf;color:#744210}
.action.held,.action.not{background:#fed7d7;color:#742a2a} dl{display:grid;grid-template-columns:11rem minmax(0,1fr);gap:.2rem 1rem;margin:.6rem 0}
dt{color:#4a5568} dd{margin:0} .description{border-left:3px solid #e2e8f0;padding-left:.8rem}
table{border-collapse:collapse;width:100%;table-layout:fixed;font-size:13px} th,td{border-bottom:1px solid #e2e8f0;padding:.3rem .5rem;
text-align:left;vertical-align:top} th{background:#f7fafc} td code,td pre{white-space:pre-wrap;word-break:break-word;margin:0}
.now{background:#fff5f5} .will{background:#f0fff4} ol{margin:.3rem 0;padding-left:1.4rem}
"""

ACTION_CLASS = {"metadata update": "update", "new version": "new-version", "held back": "held", "will not go": "not"}


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _value(value: object) -> str:
    """A field's value for a reader: text as it is, structures as indented JSON; nothing as a dash."""
    if value is None or value == [] or value == {} or value == "":
        return "&ndash;"
    if isinstance(value, str):
        return f"<code>{_e(value)}</code>"
    return f"<pre>{_e(json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True))}</pre>"


def _creators(creators: list[dict]) -> str:
    items = []
    for creator in creators:
        kind = "organisation" if creator.get("organisation") else "person"
        ids = []
        if creator.get("orcid"):
            ids.append(f"ORCID {_e(creator['orcid'])}")
        if creator.get("ror"):
            ids.append(f"ROR {_e(creator['ror'])}")
        if creator.get("affiliation") or creator.get("affiliation_ror"):
            ids.append(f"affiliation {_e(creator.get('affiliation') or '')} {_e(creator.get('affiliation_ror') or '')}".rstrip())
        items.append(f"<li>{_e(creator['name'])} <span class=muted>({kind}{'; ' + '; '.join(ids) if ids else ''})</span></li>")
    return f"<ul>{''.join(items)}</ul>"


def _landing(page: dict, update: bool = False) -> str:
    related = "".join(f"<li>{_e(item.get('relation', ''))}: <code>{_e(item.get('identifier', ''))}</code></li>"
                      for item in page.get("related_identifiers", []))
    files = "".join(f"<tr><td><code>{_e(f['name'])}</code></td><td>{f['size']:,} bytes</td><td><code>{_e(f['md5'])}</code></td></tr>"
                    for f in page.get("files", []))
    rows = [
        ("Creators", _creators(page.get("creators", []))),
        ("Publisher", _e(page.get("publisher", ""))),
        ("Publication date", _e(page.get("publication_date", ""))),
        ("Version", _e(page.get("version", ""))),
        ("Resource type", _e(page.get("resource_type", ""))),
        ("Licence", _e(page.get("license", ""))),
        ("Subjects", ", ".join(_e(k) for k in page.get("keywords", []))),
        ("Languages", ", ".join(_e(k) for k in page.get("languages", []))),
        ("Related identifiers", f"<ul>{related}</ul>" if related else "&ndash;"),
        ("Communities", ", ".join(_e(c) for c in page.get("communities", [])) or "&ndash;"),
        ("Additional notes", _e(page.get("notes", ""))),
    ]
    grid = "".join(f"<dt>{name}</dt><dd>{value}</dd>" for name, value in rows)
    return (f"<dl>{grid}</dl><h4>Description</h4><div class=description>{page.get('description', '')}</div>"
            f"<h4>{'Files (kept as published: an update changes no file)' if update else 'Files (in the order sent; the first is previewed)'}</h4><table><colgroup><col style=width:45%><col style=width:20%>"
            f"<col></colgroup><tr><th>file</th><th>size</th><th>md5</th></tr>{files}</table>")


def _changes(entry: dict) -> str:
    if not entry.get("changes"):
        return ""
    source = ("what the repository holds now (read-only requests)" if entry.get("changes_from") == "repository"
              else "what the ledger says was sent (the repository was not asked)")
    rows = "".join(f"<tr><td>{_e(c['field'])}</td><td class=now>{_value(c['now'])}</td><td class=will>{_value(c['will'])}</td></tr>"
                   for c in entry["changes"])
    return (f"<h4>Changes, field by field: {source}</h4><table><colgroup><col style=width:14%><col style=width:43%><col></colgroup>"
            f"<tr><th>field</th><th>now</th><th>will be</th></tr>{rows}</table>")


def _record(entry: dict) -> str:
    kind = entry.get("kind", entry["action"])
    head = (f"<section class=record id='{_e(entry['id'])}'><span class='action {ACTION_CLASS.get(kind, '')}'>{_e(kind)}</span> "
            f"<code>{_e(entry['id'])}</code><h3>{_e(entry.get('title', ''))}</h3>")
    why = f"<p class=muted>{_e(entry['why'])}</p>" if entry.get("why") else ""
    steps = "".join(f"<li>{_e(step)}</li>" for step in entry.get("steps", []))
    body = _changes(entry) + (_landing(entry["page"], update=entry["action"] == "update") if "page" in entry else "")
    return f"{head}{why}{f'<ol>{steps}</ol>' if steps else ''}{body}</section>"


def render_plan(plan: dict) -> str:
    """The whole page, from the plan a dry run wrote to plan.json."""
    entries = plan["records"]
    going = [e for e in entries if "page" in e]
    held = [e for e in entries if e.get("kind") in ("held back", "will not go")]
    rest = [e for e in entries if e not in going and e not in held]
    counts: dict[str, int] = {}
    for entry in entries:
        counts[entry.get("kind", entry["action"])] = counts.get(entry.get("kind", entry["action"]), 0) + 1
    summary = "".join(f"<li><b>{n}</b>{_e(kind)}</li>" for kind, n in sorted(counts.items()))
    asked = (f"The repository was asked with {plan.get('requests', 0)} read-only request(s); nothing was written."
             if plan.get("asked_repository") else "The repository was not asked (no token): nothing was sent.")
    not_going = "".join(f"<tr><td><code>{_e(e['id'])}</code></td><td>{_e(e.get('kind', ''))}</td><td>{_e(e.get('why', ''))}</td></tr>"
                        for e in held + rest)
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8><meta name=viewport content='width=device-width, initial-scale=1'>"
        "<meta http-equiv=Content-Security-Policy content=\"default-src 'none'; style-src 'unsafe-inline'\">"
        f"<title>archiver deposit plan</title><style>{STYLE}</style></head><body>"
        f"<h1>What this deposit will make public</h1><p class=muted>{_e(plan['environment'])} &middot; <code>{_e(plan['api_url'])}</code>"
        f" &middot; {asked} A DOI cannot be withdrawn: read each record as its landing page will show it.</p>"
        f"<ul class=counts>{summary}</ul>"
        f"<h2>Records that will be sent ({len(going)})</h2>{''.join(_record(e) for e in going) or '<p>None.</p>'}"
        f"<h2>Records that will not be sent ({len(held) + len(rest)})</h2>"
        f"<table><colgroup><col style=width:16%><col style=width:14%><col></colgroup><tr><th>record</th><th>action</th><th>why</th></tr>"
        f"{not_going}</table></body></html>\n"
    )
