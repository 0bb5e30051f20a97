import { useState } from 'preact/hooks';
import { put } from '../api.js';
import { denied } from '../rbac.js';
import { Action, Status, when } from '../ui.jsx';

export const RULE_METRICS = ['errorRate', 'toolErrorRate', 'p50LatencyMs', 'p95LatencyMs', 'p99LatencyMs',
  'tokensPerRun', 'costPerRunUsd'];
const LIMITS = { maxIncrease: 'max increase', maxRatio: 'max ratio' };

// The editable copy of the guard's settings: one row per rule, its limit kind chosen apart from its value.
const draftOf = (g) => ({
  enabled: g.enabled, minRuns: g.minRuns, windowMinutes: g.windowMinutes,
  rules: g.rules.map((r) => ({ metric: r.metric, kind: r.maxIncrease != null ? 'maxIncrease' : 'maxRatio',
    value: String(r.maxIncrease != null ? r.maxIncrease : r.maxRatio) })),
});

const body = (d) => ({
  enabled: d.enabled, minRuns: Number(d.minRuns), windowMinutes: Number(d.windowMinutes),
  rules: d.rules.map((r) => ({ metric: r.metric, [r.kind]: Number(r.value) })),
});

// What a verdict means to a person: "waiting" is never drawn like "passed".
const MEANING = {
  passed: 'judged: no rule breached',
  breached: 'judged: a rule was breached',
  waiting: 'not judged yet',
  overridden: 'left alone: a person deployed a rejected build again',
};

function RuleResults({ rules }) {
  if (!rules.length) return null;
  return (
    <table aria-label="Rule results">
      <thead><tr><th>Metric</th><th>Limit</th><th>Base</th><th>Head</th><th>Change</th><th>Significant</th><th>Result</th></tr></thead>
      <tbody>
        {rules.map((r) => (
          <tr key={r.metric} data-rule-result={r.metric}>
            <td>{r.metric}</td><td>{r.limit}</td><td>{r.base ?? '—'}</td><td>{r.head ?? '—'}</td><td>{r.change ?? '—'}</td>
            <td>{r.significant === null ? 'no test' : r.significant ? 'yes' : 'no'}</td>
            <td>{!r.judged ? `not judged${r.why ? `: ${r.why}` : ''}` : r.breached ? 'breached' : 'within limit'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

const runs = (n) => (n === null || n === undefined ? 'runs not counted' : `${n} runs`);

export function Verdict({ evaluation: e }) {
  if (!e) return <p class="muted" data-verdict="none">No evaluation yet.</p>;
  return (
    <div data-verdict={e.verdict}>
      <p class="row">
        <Status value={e.verdict} /><strong>{MEANING[e.verdict]}</strong>
        <span class="muted">at {when(e.at)}</span>
      </p>
      {e.why && <p data-why>{e.why}</p>}
      <p class="muted">
        head {e.headBuildId || '—'} ({runs(e.headRuns)}) against base {e.baseBuildId || '—'} ({runs(e.baseRuns)})
        {e.rollbackDeployId ? ` · rolled back by deploy ${e.rollbackDeployId}` : ''}
        {e.windowEndsAt ? ` · window ends ${when(e.windowEndsAt)}` : ''}
      </p>
      <RuleResults rules={e.rules || []} />
    </div>
  );
}

function RuleRow({ rule, index, set, remove, off }) {
  const field = (key) => (e) => set(index, { ...rule, [key]: e.currentTarget.value });
  const n = index + 1;
  return (
    <tr data-rule={index}>
      <td><select aria-label={`Metric of rule ${n}`} value={rule.metric} disabled={off} onChange={field('metric')}>
        {RULE_METRICS.map((m) => <option key={m} value={m}>{m}</option>)}</select></td>
      <td><select aria-label={`Limit of rule ${n}`} value={rule.kind} disabled={off} onChange={field('kind')}>
        {Object.entries(LIMITS).map(([k, label]) => <option key={k} value={k}>{label}</option>)}</select></td>
      <td><input aria-label={`Value of rule ${n}`} type="number" step="any" min="0" required value={rule.value}
        disabled={off} onInput={field('value')} /></td>
      <td><button type="button" class="secondary" data-action="remove-rule" disabled={off} onClick={() => remove(index)}>Remove</button></td>
    </tr>
  );
}

// Rules, minimum runs, window and on/off, saved with one PUT; a role without deployment:update sees it all disabled and why.
export function Guard({ id, guard, role, saved }) {
  const [draft, setDraft] = useState(() => draftOf(guard));
  const reason = denied(role, 'deployment:update');
  const off = !!reason;
  const set = (i, rule) => setDraft({ ...draft, rules: draft.rules.map((r, j) => (j === i ? rule : r)) });
  const remove = (i) => setDraft({ ...draft, rules: draft.rules.filter((_, j) => j !== i) });
  const unused = RULE_METRICS.find((m) => !draft.rules.some((r) => r.metric === m));
  const add = () => setDraft({ ...draft, rules: [...draft.rules, { metric: unused, kind: 'maxRatio', value: '1.5' }] });
  const value = (key) => (e) => setDraft({ ...draft, [key]: e.currentTarget.value });
  return (
    <section class="card" aria-label="Release guard">
      <h2>Release guard <Status value={guard.enabled ? 'on' : 'off'} /></h2>
      <h3>Last evaluation</h3>
      <Verdict evaluation={guard.lastEvaluation} />
      {guard.rejectedBuildIds.length > 0 && <p class="muted">Rejected builds: {guard.rejectedBuildIds.join(', ')}</p>}
      <p class="muted">{guard.evaluations} evaluations{guard.updatedAt ? ` · settings changed ${when(guard.updatedAt)}` : ''}</p>
      <h3>Rules</h3>
      <form aria-label="Guard settings" onSubmit={(e) => e.preventDefault()}>
        <table aria-label="Guard rules">
          <thead><tr><th>Metric</th><th>Limit</th><th>Value</th><th /></tr></thead>
          <tbody>{draft.rules.map((r, i) => <RuleRow key={i} rule={r} index={i} set={set} remove={remove} off={off} />)}</tbody>
        </table>
        <p class="muted">Rates are fractions: max increase 0.05 is 5 points; a max ratio of 1.5 allows head up to 1.5 × base.</p>
        <div class="row">
          <button type="button" class="secondary" data-action="add-rule" disabled={off || !unused} onClick={add}>Add rule</button>
          <label>Minimum runs<input name="minRuns" type="number" min="1" value={draft.minRuns} disabled={off} onInput={value('minRuns')} /></label>
          <label>Window (minutes)<input name="windowMinutes" type="number" min="1" value={draft.windowMinutes} disabled={off}
            onInput={value('windowMinutes')} /></label>
          <label class="check"><input name="enabled" type="checkbox" checked={draft.enabled} disabled={off}
            onChange={(e) => setDraft({ ...draft, enabled: e.currentTarget.checked })} /> Guard on</label>
          <Action label="Save guard" name="save-guard" role={role} perm="deployment:update"
            run={() => put(`/deployments/${id}/guard`, body(draft))} done={(g) => { setDraft(draftOf(g)); saved(g); }} />
        </div>
      </form>
    </section>
  );
}
