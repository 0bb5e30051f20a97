import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { denied } from './rbac.js';

// Loads `load()` now and whenever `deps` change; `reload` runs it again (after an action).
export function useResource(load, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const seq = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++seq.current;
    try {
      const data = await load();
      if (mine === seq.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === seq.current) setState((s) => ({ ...s, error, loading: false }));
    }
  }, deps);
  useEffect(() => { reload(); }, [reload]);
  return { ...state, reload };
}

// Runs `fn` every `ms` while the page is shown (statuses the WebSocket does not carry).
export function useInterval(fn, ms) {
  const saved = useRef(fn);
  saved.current = fn;
  useEffect(() => {
    const id = setInterval(() => saved.current(), ms);
    return () => clearInterval(id);
  }, [ms]);
}

export function ErrorText({ error }) {
  if (!error) return null;
  return <p class="error" role="alert">{error.message}{error.code ? ` (${error.code})` : ''}</p>;
}

export function Status({ value }) {
  return <span class={`status ${value || ''}`}>{value || '—'}</span>;
}

let ids = 0;

// A button for one API action: disabled with the reason when the role lacks `perm` (or `why` says so),
// busy while the call runs, the API's error shown beside it.
// Runs one API call at a time: `busy` while it runs, the API's `error` after a failure.
function useRun() {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState(null);
  const go = async (call, done) => {
    setBusy(true);
    setError(null);
    try {
      const result = await call();
      if (done) await done(result);
    } catch (e) {
      setError(e);
    } finally {
      setBusy(false);
    }
  };
  return [busy, error, go];
}

export function Action({ label, perm, role, why, run, done, kind = '', confirm: ask, name }) {
  const [busy, error, go] = useRun();
  const [id] = useState(() => `why-${++ids}`);
  const reason = why || (perm ? denied(role, perm) : null);
  const click = () => { if (!ask || window.confirm(ask)) go(run, done); };
  return (
    <span class="action">
      <button type="button" class={kind} data-action={name || label} disabled={busy || !!reason}
        aria-describedby={reason ? id : undefined} onClick={click}>{busy ? `${label}…` : label}</button>
      {reason && <span id={id} class="why"> {reason}</span>}
      {error && <span class="error" role="alert"> {error.message} ({error.code})</span>}
    </span>
  );
}

// A small form posting its fields: `fields` are [name, label, props]; `submit(values)` calls the API.
export function Form({ title, fields, submit, done, perm, role, submitLabel = 'Create', name }) {
  const [busy, error, go] = useRun();
  const [id] = useState(() => `why-${++ids}`);
  const reason = perm ? denied(role, perm) : null;
  const onSubmit = (e) => {
    e.preventDefault();
    const form = e.currentTarget;
    const values = Object.fromEntries(new FormData(form).entries());
    go(() => submit(values), async (result) => { form.reset(); if (done) await done(result); });
  };
  return (
    <form class="inline" onSubmit={onSubmit} aria-label={title} data-form={name || title}>
      {fields.map(([field, label, props = {}]) => (
        <label key={field}>{label}
          {props.options
            ? <select name={field} disabled={!!reason} {...props}>{props.options.map((o) => <option key={o} value={o}>{o}</option>)}</select>
            : <input name={field} disabled={!!reason} required={props.required !== false} {...props} />}
        </label>
      ))}
      <button type="submit" data-action={submitLabel} disabled={busy || !!reason}
        aria-describedby={reason ? id : undefined}>{submitLabel}</button>
      {reason && <span id={id} class="why">{reason}</span>}
      <ErrorText error={error} />
    </form>
  );
}

export const when = (iso) => (iso ? new Date(iso).toLocaleString() : '—');
export const money = (usd) => (usd === null || usd === undefined ? 'unpriced' : `$${usd.toFixed(6)}`);
export const duration = (ms) => (ms === null || ms === undefined ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${Math.round(ms)} ms`);
export const bytes = (n) => (n === null || n === undefined ? '—' : `${(n / (1 << 20)).toFixed(1)} MiB`);
