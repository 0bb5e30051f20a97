import { useEffect, useRef, useState } from 'preact/hooks';
import { all, del, get, post } from '../api.js';
import { LogView, useFollowedLog } from '../logview.jsx';
import { Action, ErrorText, Status, bytes, useInterval, useResource, when } from '../ui.jsx';
import { useLive } from './build.jsx';
import { ReleasePanels } from './release_panels.jsx';

async function load(id) {
  const [deployment, servers, builds, deploys] = await Promise.all([
    get(`/deployments/${id}`), get(`/deployments/${id}/servers`, { limit: 10 }),
    get(`/deployments/${id}/builds`, { limit: 20 }), get(`/deployments/${id}/deploys`, { limit: 10 })]);
  return { deployment, servers: servers.items, builds: builds.items, deploys: deploys.items };
}

function ServerLog({ live, serverId, onHealth }) {
  const log = useFollowedLog(live, `server:${serverId}:logs`,
    () => get(`/servers/${serverId}/logs`, { tail: 200 }),
    (since) => get(`/servers/${serverId}/logs`, { since }));
  const health = useRef(onHealth);
  health.current = onHealth;
  useEffect(() => { if (live) live.subscribe(`server:${serverId}`, (m) => health.current(m)); }, [live, serverId]);
  return <LogView lines={log.lines} version={log.version} need={log.need} label="Server log" />;
}

export function Deployment({ ctx, params: [id] }) {
  const r = useResource(() => load(id), [id]);
  const [live, state] = useLive();
  const [health, setHealth] = useState(null);
  useInterval(() => r.reload(), 3000);
  if (!r.data) return <><h1>Deployment</h1><ErrorText error={r.error} /></>;
  const { deployment: d, servers, builds, deploys } = r.data;
  const role = ctx.roleIn(d.teamId);
  const act = (action, body = {}) => () => post(`/deployments/${id}/${action}`, body);
  const server = servers.find((s) => s.id === d.serverId);
  const stopped = d.status === 'stopped' ? 'The deployment is stopped' : null;
  const noBuild = d.currentBuildId ? null : 'Nothing was deployed yet';
  return (
    <>
      <h1>{d.type} · {d.branch} <span class="muted">{d.id}</span></h1>
      <ErrorText error={r.error} />
      <section class="card">
        <div class="row">
          <Status value={d.status} /><span class="muted">{d.statusReason || ''}</span>
          {d.publicUrl ? <a href={d.publicUrl} target="_blank" rel="noopener" data-link="public-url">{d.publicUrl}</a> : <span class="muted">no URL yet</span>}
          <a href={`#/projects/${d.projectId}`}>Project</a>
          {d.currentBuildId && <a href={`#/builds/${d.currentBuildId}`}>Current build</a>}
        </div>
        <div class="row">
          <Action label="Build now" name="build-now" role={role} perm="build:create"
            run={() => post(`/deployments/${id}/builds`, {})} done={(b) => { location.hash = `#/builds/${b.id}`; }} />
          <Action label="Redeploy" name="redeploy" role={role} perm="deployment:deploy" why={noBuild} run={act('redeploy')} done={r.reload} />
          <Action label="Restart" name="restart" role={role} perm="deployment:deploy" why={noBuild} run={act('restart')} done={r.reload} />
          <Action label="Stop" name="stop" kind="danger" role={role} perm="deployment:deploy" why={stopped || noBuild} run={act('stop')} done={r.reload} />
          <Action label="Delete deployment" name="delete-deployment" kind="danger" role={role} perm="deployment:delete"
            confirm="Delete this deployment and stop its server?" run={() => del(`/deployments/${id}`)}
            done={() => { location.hash = `#/projects/${d.projectId}`; }} />
        </div>
      </section>
      <section class="card">
        <h2>Servers</h2>
        <table aria-label="Servers">
          <thead><tr><th>Server</th><th>Status</th><th>Health</th><th>CPU</th><th>Memory</th><th>Build</th><th>Started</th></tr></thead>
          <tbody>
            {servers.map((s) => (
              <tr key={s.id} data-server={s.id}>
                <td>{s.id}{s.id === d.serverId ? ' (current)' : ''}</td><td><Status value={s.status} /></td>
                <td><Status value={s.id === d.serverId && health ? health : s.health} /></td>
                <td>{s.cpuPercent === null ? '—' : `${s.cpuPercent.toFixed(1)} %`}</td><td>{bytes(s.memoryBytes)}</td>
                <td>{s.buildId}</td><td>{when(s.startedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h2>Server log</h2>
        <p class="muted">live: {state}</p>
        {server ? <ServerLog key={server.id} live={live} serverId={server.id}
          onHealth={(m) => { if (m.type === 'health' && m.health) setHealth(m.health); }} />
          : <p class="muted">No server is running.</p>}
      </section>
      <section class="card">
        <h2>Builds</h2>
        <table aria-label="Builds of the deployment">
          <thead><tr><th>Build</th><th>Status</th><th>Created</th><th /></tr></thead>
          <tbody>
            {builds.map((b) => (
              <tr key={b.id} data-build={b.id}>
                <td><a href={`#/builds/${b.id}`}>{b.id}</a>{b.id === d.currentBuildId ? ' (serving)' : ''}</td>
                <td><Status value={b.status} /></td><td>{when(b.createdAt)}</td>
                <td><Action label="Roll back to this build" name="rollback" role={role} perm="deployment:deploy"
                  why={b.id === d.currentBuildId ? 'It is serving now' : b.status !== 'succeeded' ? `The build ${b.status}` : null}
                  run={act('rollback', { buildId: b.id })} done={r.reload} /></td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section class="card">
        <h2>Deploys</h2>
        <table aria-label="Deploys">
          <thead><tr><th>Deploy</th><th>Action</th><th>Trigger</th><th>Status</th><th>Build</th><th>Created</th></tr></thead>
          <tbody>
            {deploys.map((x) => (
              <tr key={x.id}><td>{x.id}</td><td>{x.action}</td><td>{x.trigger}</td>
                <td><Status value={x.status} /> <span class="muted">{x.reason || ''}</span></td><td>{x.buildId || '—'}</td><td>{when(x.createdAt)}</td></tr>
            ))}
          </tbody>
        </table>
      </section>
      <ReleasePanels id={id} role={role} live={live}
        version={`${d.status}|${d.currentBuildId}|${deploys.map((x) => `${x.id}:${x.status}`).join()}`} />
    </>
  );
}
