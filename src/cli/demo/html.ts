/**
 * The self-contained HTML report: the topology, a summary against the real kernel, and per
 * variant the reachability matrix and every probe's packet path drawn on the topology.
 */
import type { ComparedProbe, Comparison } from "./compare.ts";
import { ADDR, MAC_MASTER, PLACES } from "./howto.ts";
import type { Oracle } from "./oracle.ts";
import type { VariantResult } from "./scenario.ts";
import { COLOR, probeSvg, SVG_CSS, SVG_SHARED, topologySvg } from "./svg.ts";
import { linkAddLine, TOPOLOGY_ASCII, verdictText } from "./text.ts";

/** One variant as the report needs it. */
interface Row {
  readonly result: VariantResult;
  readonly cmp: Comparison | null;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

const CSS = `
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#24292f;margin:24px auto;max-width:1200px;padding:0 16px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;margin:36px 0 6px;padding-top:12px;border-top:2px solid #d0d7de}
h3{font-size:16px;margin:18px 0 6px}code,pre{font:13px ui-monospace,SFMono-Regular,Menlo,monospace}
pre{background:#f6f8fa;padding:8px 10px;border-radius:6px;overflow-x:auto}
.lead{color:#57606a;margin:0 0 12px}
table{border-collapse:collapse;margin:6px 0 10px}th,td{border:1px solid #d0d7de;padding:5px 9px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
td.ok{background:#dafbe1;color:#116329;font-weight:600}td.fail{background:#ffebe9;color:#a40e26;font-weight:600}
td.self{background:#f6f8fa;color:#8c959f;text-align:center}
td.differs{outline:3px solid #bf8700;outline-offset:-3px}
.reason{display:block;font-weight:400;font-size:12px}
.real{display:block;font-weight:400;font-size:11px;color:#57606a}
.same{color:#116329;font-weight:600}.diff{color:#9a6700;font-weight:700}.notrun{color:#a40e26;font-weight:700}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:14px}
.card{border:1px solid #d0d7de;border-radius:8px;padding:8px 10px;background:#fff}
.card h4{margin:0 0 4px;font-size:14px}.card.ok h4{color:#116329}.card.fail h4{color:#a40e26}
.card p{margin:4px 0 0;font-size:12.5px;color:#424a53}
.legend span{display:inline-block;margin-right:18px;font-size:13px}
.legend svg{vertical-align:middle;margin-right:4px}
svg{max-width:100%;height:auto}
${SVG_CSS}
`;

function cell(c: ComparedProbe | undefined): string {
  if (!c) return `<td class="self">&mdash;</td>`;
  const p = c.probe;
  const cls = `${p.ok ? "ok" : "fail"}${c.verdict === "differs" ? " differs" : ""}`;
  const reason = p.ok ? "" : `<span class="reason">${esc(p.reason)}</span>`;
  const real =
    c.real === null
      ? `<span class="real">not recorded</span>`
      : `<span class="real">real kernel: ${c.real ? "OK" : "FAIL"}${c.verdict === "differs" ? " &ne;" : " &#10003;"}</span>`;
  return `<td class="${cls}" title="${esc(p.detail)}">${p.ok ? "OK" : "FAIL"}${reason}${real}</td>`;
}

function matrixTable(cmp: Comparison): string {
  const head = `<tr><th>from \\ to</th>${PLACES.map((p) => `<th>${p}<br><small>${ADDR[p]}</small></th>`).join("")}</tr>`;
  const rows = PLACES.map((from) => {
    const cells = PLACES.map((to) =>
      cell(cmp.matrix.find((c) => c.probe.from === from && c.probe.to === to)),
    );
    return `<tr><th>${from}</th>${cells.join("")}</tr>`;
  });
  const st = cmp.staticNeigh;
  const stRow = `<tr><th colspan="2">with the router's static neighbour<br><small>${ADDR.ns0} lladdr ${MAC_MASTER}</small></th><th>router &rarr; ns0</th>${cell(st[0])}<th>ns0 &rarr; router</th>${cell(st[1])}</tr>`;
  return `<table>${head}${rows.join("")}</table><table>${stRow}</table>`;
}

function verdictHtml(r: VariantResult, cmp: Comparison | null): string {
  const text = r.ok ? verdictText(r, cmp) : `not run: ${r.error}`;
  const cls = !r.ok ? "notrun" : text.startsWith("same") ? "same" : text.startsWith("DIFF") ? "diff" : "";
  return `<span class="${cls}">${esc(text)}</span>`;
}

function card(c: ComparedProbe, modeLabel: string): string {
  const p = c.probe;
  const tag = c.staticNeigh ? " (static neighbour)" : "";
  const what = p.ok ? "OK" : `FAIL &mdash; ${esc(p.reason)}`;
  const real = c.real === null ? "not recorded on the real kernel" : `real kernel: ${c.real ? "OK" : "FAIL"}`;
  const mark = c.verdict === "differs" ? ` <span class="diff">&ne; ${real}</span>` : ` &middot; ${real}`;
  const detail = p.ok ? "echo request and reply delivered" : esc(p.detail);
  return `<div class="card ${p.ok ? "ok" : "fail"}"><h4>${p.from} &rarr; ${p.to}${tag}: ${what}</h4>${probeSvg(p, modeLabel, 580)}<p>${detail}${mark}</p></div>`;
}

function legend(): string {
  const line = (color: string, dash: string, w: number) =>
    `<svg width="44" height="10"><line x1="2" y1="5" x2="42" y2="5" stroke="${color}" stroke-width="${w}"${dash ? ` stroke-dasharray="${dash}"` : ""}/></svg>`;
  return `<p class="legend"><span>${line(COLOR.ok, "", 3)}echo request (ping OK)</span><span>${line(COLOR.ok, "6 4", 3)}echo reply</span><span>${line(COLOR.fail, "", 3)}${line(COLOR.fail, "6 4", 3)}request / reply of a FAILED ping</span><span>${line(COLOR.arp, "4 3", 2)}ARP</span><span><svg width="18" height="18"><circle cx="9" cy="9" r="8" fill="${COLOR.fail}"/></svg>where it stopped (device, or the namespace's IP stack)</span><span><svg width="30" height="18"><rect x="2" y="2" width="26" height="14" rx="7" fill="none" stroke="${COLOR.ok}" stroke-width="3"/></svg>where ping ran</span></p>`;
}

function section(row: Row): string {
  const r = row.result;
  const id = esc(r.variant.id);
  const head = `<h2 id="${id}">${esc(r.variant.title)}</h2><pre>$ ${esc(linkAddLine(r))}</pre>`;
  if (!r.ok) return `${head}<p class="notrun">Not run: ${esc(r.error)}</p>`;
  const cmp = row.cmp!;
  const modeLabel = r.modeLine;
  const cards = [...cmp.matrix, ...cmp.staticNeigh].map((c) => card(c, modeLabel)).join("");
  const commands = r.commands
    .map((c) => `$ ${c.line}${c.fallback ? `\n  # ${c.fallback}` : ""}${c.output ? `\n${c.output}` : ""}`)
    .join("\n");
  const realDev: string[] = [];
  if (cmp.realModeLine !== null && cmp.realModeLine !== r.modeLine) {
    realDev.push(`the real kernel reports <code>${esc(cmp.realModeLine)}</code>`);
  }
  if (cmp.realFlags !== null && cmp.realFlags !== r.flags) {
    realDev.push(`the real kernel's flags are <code>&lt;${esc(cmp.realFlags)}&gt;</code>`);
  }
  const devDiff = realDev.length ? `<p class="diff">ipvl0 differs: ${realDev.join("; ")}</p>` : "";
  return `${head}<p>ipvl0 in ns0: <code>${esc(r.modeLine)}</code> <code>&lt;${esc(r.flags)}&gt;</code> &middot; ${verdictHtml(r, cmp)}</p>
${devDiff}${matrixTable(cmp)}
<details><summary>commands run (${r.commands.length})</summary><pre>${esc(commands)}</pre></details>
<h3>Packet paths</h3><div class="grid">${cards}</div>`;
}

/** The whole report. */
export function renderHtml(rows: readonly Row[], oracle: Oracle): string {
  const summary = rows
    .map((row) => {
      const r = row.result;
      return `<tr><td><a href="#${esc(r.variant.id)}">${esc(r.variant.title)}</a></td><td><code>${esc(linkAddLine(r))}</code></td><td>${r.ok ? `<code>${esc(r.modeLine)}</code>` : "&mdash;"}</td><td>${verdictHtml(r, row.cmp)}</td></tr>`;
    })
    .join("");
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>ipvl: the IPVLAN HOWTO example on the simulated kernel</title><style>${CSS}</style></head>
<body>${SVG_SHARED}
<h1>ipvl: the IPVLAN HOWTO example on the simulated kernel</h1>
<p class="lead">Each cell is one <code>ping -c1 -W1</code> on the simulated kernel's virtual time. A failure names its
reason from the kernel's named drop counters or the ARP state; the paths come from packet taps on every device.
Real-kernel answers: Linux ${esc(oracle.kernel)}, from <code>${esc(oracle.source)}</code>.</p>
${topologySvg()}
<pre>${esc(TOPOLOGY_ASCII.join("\n"))}</pre>
${legend()}
<h2>Summary</h2>
<table><tr><th>configuration</th><th>HOWTO step (b)</th><th>ipvl0 reports</th><th>compared with the real kernel</th></tr>${summary}</table>
${rows.map(section).join("\n")}
</body></html>
`;
}
