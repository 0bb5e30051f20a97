import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { get } from '../api.js';
import { ErrorText, useResource } from '../ui.jsx';
import { since, windows } from './traces.jsx';

const COLORS = ['#2754c5', '#b3261e', '#1b7f3b', '#a05a00', '#6b3fa0', '#00838f', '#c2185b', '#546e7a'];

// One chart: x = bucket times (seconds), one line per [label, values] (nulls leave gaps).
function Chart({ title, times, lines }) {
  const box = useRef(null);
  useEffect(() => {
    const width = Math.max(320, box.current.clientWidth || 520);
    const plot = new uPlot({
      title, width, height: 220,
      series: [{}, ...lines.map(([label], i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2, points: { show: true } }))],
      axes: [{}, { size: 60 }],
    }, [times, ...lines.map(([, values]) => values)], box.current);
    return () => plot.destroy();
  }, [title, times, lines]);
  return <figure class="chart" ref={box} aria-label={title} data-chart={title} data-points={times.length} />;
}

// Series of the API → one table of times and, per chart, one line per group.
function shape(series) {
  const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.time)))].sort();
  const at = (s, key) => {
    const byTime = new Map(s.points.map((p) => [p.time, p[key]]));
    return times.map((t) => (byTime.has(t) ? byTime.get(t) : null));
  };
  const per = (key, suffix = '') => series.map((s) => [`${s.group}${suffix}`, at(s, key)]);
  return {
    times: times.map((t) => Date.parse(t) / 1000),
    charts: [
      ['Requests', per('requests')],
      ['Errors', per('errors')],
      ['Latency (ms)', [...per('p50Ms', ' p50'), ...per('p95Ms', ' p95')]],
      ['Tokens', per('totalTokens')],
      ['Cost (USD)', per('costUsd')],
    ],
  };
}

export function Metrics({ params: [projectId] }) {
  const [win, setWin] = useState('24h');
  const [interval, setInterval_] = useState('hour');
  const [groupBy, setGroupBy] = useState('none');
  const r = useResource(() => get(`/projects/${projectId}/metrics`, { from: since(win), interval, groupBy }),
    [projectId, win, interval, groupBy]);
  const data = r.data && shape(r.data.series);
  return (
    <>
      <h1>Metrics <a href={`#/projects/${projectId}`} class="muted">back to the project</a></h1>
      <div class="row">
        <label>Window<select aria-label="Window" onChange={(e) => setWin(e.currentTarget.value)}>
          {windows.map((w) => <option key={w} selected={w === win}>{w}</option>)}</select></label>
        <label>Interval<select aria-label="Interval" onChange={(e) => setInterval_(e.currentTarget.value)}>
          <option value="hour">per hour</option><option value="day">per day</option></select></label>
        <label>Per<select aria-label="Group by" onChange={(e) => setGroupBy(e.currentTarget.value)}>
          <option value="none">all</option><option value="deployment">deployment</option><option value="model">model</option>
          <option value="environment">environment</option></select></label>
      </div>
      <ErrorText error={r.error} />
      {data && !data.times.length && <p class="muted">No metrics in that window.</p>}
      {data && data.times.length > 0 && (
        <div class="charts">{data.charts.map(([title, lines]) => <Chart key={title + groupBy} title={title} times={data.times} lines={lines} />)}</div>
      )}
    </>
  );
}
