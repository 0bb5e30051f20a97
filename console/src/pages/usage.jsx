import { useState } from 'preact/hooks';
import { get } from '../api.js';
import { ErrorText, money, useResource } from '../ui.jsx';
import { since, windows } from './traces.jsx';

export function Usage({ ctx }) {
  const [win, setWin] = useState('30d');
  const team = ctx.team;
  const r = useResource(() => get(`/teams/${team.id}/usage`, { from: since(win) }), [team.id, win]);
  return (
    <>
      <h1>Usage of {team.name}</h1>
      <label class="row">Window
        <select aria-label="Window" value={win} onChange={(e) => setWin(e.currentTarget.value)}>
          {windows.map((w) => <option key={w}>{w}</option>)}
        </select>
      </label>
      <ErrorText error={r.error} />
      {r.data && (
        <section class="card">
          <table aria-label="Usage by project and model">
            <thead><tr><th>Project</th><th>Model</th><th>Calls</th><th>Input</th><th>Output</th><th>Total tokens</th><th>Cost</th></tr></thead>
            <tbody>
              {r.data.items.map((u) => (
                <tr key={u.projectId + u.model}>
                  <td><a href={`#/projects/${u.projectId}`}>{u.projectId}</a></td><td>{u.model}</td><td>{u.calls}</td>
                  <td>{u.inputTokens}</td><td>{u.outputTokens}</td><td>{u.totalTokens}</td><td>{money(u.costUsd)}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p>Total {money(r.data.totalCostUsd)}{r.data.unpricedModels.length ? ` (unpriced: ${r.data.unpricedModels.join(', ')})` : ''}</p>
        </section>
      )}
    </>
  );
}
