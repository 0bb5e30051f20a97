import { useEffect, useState } from 'preact/hooks';
import { get } from '../api.js';
import { Action, ErrorText, duration, when } from '../ui.jsx';

// Figures as the API gives them: null means "not known" (no runs, no price), never shown as 0.
export const percent = (x) => (x === null || x === undefined ? '—' : `${(x * 100).toFixed(1)} %`);
const num = (x, digits = 1) => (x === null || x === undefined ? '—' : x.toFixed(digits));

// Cost per run: an unpriced model makes it unknown, and says which model; no runs leaves nothing to divide.
export function costPerRun(f) {
  if (f.unpricedModels.length) return `unpriced (${f.unpricedModels.join(', ')})`;
  return f.costPerRunUsd === null ? '—' : `$${f.costPerRunUsd.toFixed(6)}`;
}

const mix = (models) => (models.length
  ? models.map((m) => `${m.model} ${Math.round(m.share * 100)} %`).join(', ') : '—');

const windowText = (w) => `${when(w.start)} → ${w.end ? when(w.end) : 'now'} (${w.trigger})`;

function ReleaseRow({ release: r }) {
  const f = r.figures;
  return (
    <tr data-release={r.buildId}>
      <td><a href={`#/builds/${r.buildId}`}>{r.buildId}</a>{r.current ? ' (serving)' : ''}
        {r.commit && <div class="muted">{r.commit.slice(0, 12)}</div>}</td>
      <td>{r.windows.map((w) => <div key={w.start}>{windowText(w)}</div>)}</td>
      <td data-figure="runs">{f.runs}</td>
      <td data-figure="errorRate">{percent(f.errorRate)}</td>
      <td data-figure="toolErrorRate">{percent(f.toolErrorRate)}</td>
      <td data-figure="latency">{duration(f.p50LatencyMs)} / {duration(f.p95LatencyMs)} / {duration(f.p99LatencyMs)}</td>
      <td data-figure="tokensPerRun">{num(f.tokensPerRun)}</td>
      <td data-figure="costPerRun">{costPerRun(f)}</td>
      <td data-figure="models">{mix(f.models)}</td>
    </tr>
  );
}

const METRICS = {
  errorRate: ['Error rate', percent], toolErrorRate: ['Tool error rate', percent],
  p50LatencyMs: ['p50 latency', duration], p95LatencyMs: ['p95 latency', duration], p99LatencyMs: ['p99 latency', duration],
  tokensPerRun: ['Tokens per run', num], costPerRunUsd: ['Cost per run', (x) => `$${x.toFixed(6)}`],
};

function change(m, show) {
  if (m.absolute === null) return '—';
  const sign = m.absolute > 0 ? '+' : '';
  const rel = m.relative === null ? '' : ` (${sign}${(m.relative * 100).toFixed(1)} %)`;
  return m.metric.endsWith('Rate') ? `${sign}${(m.absolute * 100).toFixed(1)} pts${rel}` : `${sign}${show(m.absolute)}${rel}`;
}

function significance(m) {
  if (m.test === 'none') return <span class="muted">no test (judged by ratio and runs)</span>;
  const p = m.pValue === null ? '' : `, p = ${m.pValue.toPrecision(2)}`;
  return <>{m.significant ? <strong class="sig">significant</strong> : <span class="muted">not significant</span>}
    {' '}<span class="muted">{m.test}{p}</span></>;
}

function Comparison({ c }) {
  return (
    <table aria-label="Comparison" data-base={c.base.buildId} data-head={c.head.buildId}>
      <thead><tr><th>Metric</th><th>Base</th><th>Head</th><th>Change</th><th>Significance</th><th>Runs (base / head)</th></tr></thead>
      <tbody>
        {c.metrics.map((m) => {
          const [label, show] = METRICS[m.metric] || [m.metric, num];
          // Cost per run is null for an unpriced model as for no runs: the side's figures say which.
          const cell = (side) => (m.metric === 'costPerRunUsd' ? costPerRun(c[side]) : show(m[side]));
          return (
            <tr key={m.metric} data-metric={m.metric} data-significant={String(m.significant)}>
              <td>{label}</td><td>{cell('base')}</td><td>{cell('head')}</td><td>{change(m, show)}</td>
              <td>{significance(m)}</td>
              <td>{m.baseN} / {m.headN}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}

// Pick two builds (default: the current one against the one it replaced, the API's own default).
function Compare({ id, items }) {
  const [pick, setPick] = useState({ base: items[1] ? items[1].buildId : '', head: items[0] ? items[0].buildId : '' });
  const [shown, setShown] = useState(null);
  const [error, setError] = useState(null);
  const run = async () => {
    setError(null);
    try { setShown(await get(`/deployments/${id}/releases/compare`, pick)); } catch (e) { setError(e); setShown(null); }
  };
  // Read again whenever the releases are (new runs counted, a deploy): the same pick, fresh figures.
  useEffect(() => { if (items.length > 1) run(); }, [items]);
  const choose = (side) => (e) => setPick({ ...pick, [side]: e.currentTarget.value });
  const options = items.map((r) => <option key={r.buildId} value={r.buildId}>{r.buildId}{r.current ? ' (serving)' : ''}</option>);
  return (
    <>
      <form class="inline" aria-label="Compare builds" onSubmit={(e) => e.preventDefault()}>
        <label>Base<select name="base" value={pick.base} onChange={choose('base')}>{options}</select></label>
        <label>Head<select name="head" value={pick.head} onChange={choose('head')}>{options}</select></label>
        <Action label="Compare" name="compare" kind="secondary" why={items.length < 2 ? 'One build served so far' : null} run={run} />
      </form>
      <ErrorText error={error} />
      {shown && <Comparison c={shown} />}
    </>
  );
}

export function Releases({ id, releases }) {
  const items = releases.items;
  return (
    <section class="card" aria-label="Releases">
      <h2>Releases</h2>
      {items.length ? (
        <table aria-label="Releases of the deployment">
          <thead><tr><th>Build</th><th>Served</th><th>Runs</th><th>Errors</th><th>Tool errors</th>
            <th>p50 / p95 / p99</th><th>Tokens / run</th><th>Cost / run</th><th>Models</th></tr></thead>
          <tbody>{items.map((r) => <ReleaseRow key={r.buildId} release={r} />)}</tbody>
        </table>
      ) : <p class="muted">No build has served this deployment yet.</p>}
      <h2>Compare</h2>
      <Compare key={items.map((r) => r.buildId).join()} id={id} items={items} />
    </section>
  );
}
