import { useEffect, useState } from 'preact/hooks';
import { get, post } from '../api.js';
import { Live } from '../live.js';
import { LogView, useFollowedLog } from '../logview.jsx';
import { Action, ErrorText, Status, useResource, when } from '../ui.jsx';

const DONE = ['succeeded', 'failed', 'cancelled', 'superseded'];
const TAIL = 2000; // lines read when the page opens; earlier ones as they are scrolled to

// One Live connection per page: it reconnects with a fresh ticket and resumes its subscriptions.
export function useLive() {
  const [state, setState] = useState('connecting');
  const [live, setLive] = useState(null);
  useEffect(() => {
    const l = new Live(setState);
    setLive(l);
    window.__live = l; // the browser tests drop the socket through it to check resuming
    return () => l.close();
  }, []);
  return [live, state];
}

export function Build({ ctx, params: [id] }) {
  const r = useResource(() => get(`/builds/${id}`), [id]);
  const [live, state] = useLive();
  const [status, setStatus] = useState(null);
  const log = useFollowedLog(live, `build:${id}`,
    async () => {
      const { logLines } = await get(`/builds/${id}`);
      return { ...(await get(`/builds/${id}/logs`, { since: Math.max(0, logLines - TAIL) })), more: true };
    },
    (since) => get(`/builds/${id}/logs`, { since }),
    (m) => { if (m.type === 'status') { setStatus(m.status); r.reload(); } });
  const build = r.data;
  const current = status || (build && build.status);
  const role = build && ctx.roleIn(build.teamId);
  return (
    <>
      {/* Fixed heights above the log and the changing parts last in their rows: streaming shifts nothing. */}
      <h1>Build <span class="muted">{id}</span></h1>
      <ErrorText error={r.error} />
      <section class="card">
        <div class="row">
          <Status value={current} />
          <Action label="Reconnect" name="reconnect" kind="secondary" run={async () => live && live.drop()} />
          <a href={build ? `#/deployments/${build.deploymentId}` : undefined}>Deployment</a>
          <a href={build ? `#/projects/${build.projectId}` : undefined}>Project</a>
          <Action label="Cancel build" name="cancel-build" kind="danger" role={role} perm="build:update"
            why={current && DONE.includes(current) ? `The build is ${current}` : null}
            run={() => post(`/builds/${id}/cancel`)} done={r.reload} />
        </div>
        <p class="muted meta">{build ? `trigger ${build.trigger} · ref ${build.ref || build.commit || 'default'} · attempt ${build.attempt} · `
          + `created ${when(build.createdAt)}${build.reason ? ` · ${build.reason}` : ''}` : ''}</p>
      </section>
      <p class="muted meta"><span class="cell" aria-live="polite">live: {state}</span><span class="cell">lines: {log.lines.length}</span></p>
      <LogView lines={log.lines} version={log.version} need={log.need} label="Build log" />
    </>
  );
}
