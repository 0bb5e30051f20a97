import { useState } from 'preact/hooks';
import { all, get } from '../api.js';
import { ErrorText, Status, duration, money, useResource, when } from '../ui.jsx';

const WINDOWS = { '1h': 3600e3, '24h': 86400e3, '7d': 7 * 86400e3, '30d': 30 * 86400e3 };
export const since = (w) => new Date(Date.now() - WINDOWS[w]).toISOString();
export const windows = Object.keys(WINDOWS);

export function Traces({ ctx, params: [projectId] }) {
  const [filters, setFilters] = useState({ window: '24h', deploymentId: '', status: '', q: '' });
  const deployments = useResource(() => all(`/projects/${projectId}/deployments`), [projectId]);
  const traces = useResource(() => get(`/projects/${projectId}/traces`, {
    from: since(filters.window), deploymentId: filters.deploymentId, status: filters.status, q: filters.q, limit: 50,
  }), [projectId, JSON.stringify(filters)]);
  const apply = (e) => {
    e.preventDefault();
    setFilters(Object.fromEntries(new FormData(e.currentTarget).entries()));
  };
  return (
    <>
      <h1>Traces <a href={`#/projects/${projectId}`} class="muted">back to the project</a></h1>
      <section class="card">
        <form class="inline" aria-label="Filter traces" onSubmit={apply} data-form="filter-traces">
          <label>Window<select name="window">{windows.map((w) => <option key={w} selected={w === filters.window}>{w}</option>)}</select></label>
          <label>Deployment<select name="deploymentId">
            <option value="">any</option>
            {(deployments.data || []).map((d) => <option key={d.id} value={d.id}>{d.type} · {d.id}</option>)}
          </select></label>
          <label>Status<select name="status">
            <option value="">any</option><option value="ok">ok</option><option value="error">error</option></select></label>
          <label>Search<input name="q" type="search" placeholder="span name, input or output" /></label>
          <button type="submit" data-action="Apply filters">Apply filters</button>
        </form>
        <ErrorText error={traces.error} />
        <table aria-label="Traces">
          <thead><tr><th>Trace</th><th>Status</th><th>Start</th><th>Duration</th><th>Spans</th><th>Tokens</th><th>Cost</th><th>Models</th></tr></thead>
          <tbody>
            {(traces.data ? traces.data.items : []).map((t) => (
              <tr key={t.traceId}>
                <td><a href={`#/projects/${projectId}/traces/${t.traceId}`}>{t.name}</a> <span class="muted">{t.traceId.slice(0, 12)}</span></td>
                <td><Status value={t.status} /></td><td>{when(t.startTime)}</td><td>{duration(t.durationMs)}</td>
                <td>{t.spanCount}</td><td>{t.totalTokens}</td><td>{money(t.costUsd)}</td><td>{t.models.join(', ')}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {traces.data && !traces.data.items.length && <p class="muted">No trace in that window.</p>}
      </section>
    </>
  );
}

function flatten(nodes, depth = 0, out = []) {
  for (const n of nodes) {
    out.push({ ...n, depth });
    flatten(n.children || [], depth + 1, out);
  }
  return out;
}

export function Trace({ params: [projectId, traceId] }) {
  const r = useResource(() => get(`/projects/${projectId}/traces/${traceId}`), [projectId, traceId]);
  const [open, setOpen] = useState(null);
  if (!r.data) return <><h1>Trace</h1><ErrorText error={r.error} /></>;
  const t = r.data;
  const t0 = Date.parse(t.startTime);
  const total = Math.max(1, t.durationMs);
  const spans = flatten(t.spans);
  return (
    <>
      <h1>Trace <span class="muted">{t.traceId}</span> <a href={`#/projects/${projectId}/traces`} class="muted">all traces</a></h1>
      <p><Status value={t.status} /> {duration(t.durationMs)} · {t.spanCount} spans · {t.totalTokens} tokens ·
        {' '}{money(t.costUsd)} · {t.environment} · {when(t.startTime)}</p>
      <section class="card">
        <div class="waterfall" role="tree" aria-label="Span tree">
          {spans.map((s) => (
            <div class="span" key={s.spanId} role="treeitem" aria-level={s.depth + 1} data-span={s.spanId}>
              <div style={{ paddingLeft: `${s.depth * 16}px` }}>
                <button type="button" class="secondary" data-action="span-details" aria-expanded={open === s.spanId}
                  onClick={() => setOpen(open === s.spanId ? null : s.spanId)}>{s.name}</button>
                <span class="muted"> [{s.spanType}] {s.model || ''}</span>
                <div class="muted">{duration(s.durationMs)}{s.totalTokens ? ` · ${s.totalTokens} tok (${s.inputTokens} in / ${s.outputTokens} out) · ${money(s.costUsd)}` : ''}</div>
              </div>
              <div class="bar-track" aria-hidden="true">
                <div class={`bar ${s.status === 'error' ? 'error' : ''}`}
                  style={{ left: `${((Date.parse(s.startTime) - t0) / total) * 100}%`, width: `${(s.durationMs / total) * 100}%` }} />
              </div>
              {open === s.spanId && (
                <pre style={{ gridColumn: '1 / span 2', whiteSpace: 'pre-wrap' }}>{JSON.stringify(
                  { status: s.status, error: s.errorMessage, input: s.input, output: s.output, attributes: s.attributes }, null, 2)}</pre>
              )}
            </div>
          ))}
        </div>
      </section>
    </>
  );
}
