import { all, del, get, post, put } from '../api.js';
import { Action, ErrorText, Form, Status, useInterval, useResource, when } from '../ui.jsx';

async function load(id) {
  const [project, deployments, env] = await Promise.all([
    get(`/projects/${id}`), all(`/projects/${id}/deployments`), all(`/projects/${id}/env`)]);
  const pages = await Promise.all(deployments.map((d) => get(`/deployments/${d.id}/builds`, { limit: 5 })));
  const builds = pages.flatMap((p) => p.items).sort((a, b) => b.createdAt.localeCompare(a.createdAt)).slice(0, 10);
  return { project, deployments, env, builds };
}

export function Project({ ctx, params: [id] }) {
  const r = useResource(() => load(id), [id]);
  useInterval(() => r.reload(), 3000); // deployment and build statuses
  if (!r.data) return <><h1>Project</h1><ErrorText error={r.error} /></>;
  const { project, deployments, env, builds } = r.data;
  const role = ctx.roleIn(project.teamId);
  return (
    <>
      <h1>{project.name} <span class="muted">{project.id}</span></h1>
      <p class="row">
        <span>{project.source.type}: {project.source.path || project.source.url || project.source.repo || project.source.repository}</span>
        <a href={`#/projects/${id}/traces`}>Traces</a>
        <a href={`#/projects/${id}/metrics`}>Metrics</a>
        <Action label="Delete project" name="delete-project" kind="danger" role={role} perm="project:delete"
          confirm={`Delete ${project.name}?`} run={() => del(`/projects/${id}`)} done={() => { location.hash = '#/projects'; }} />
      </p>
      <ErrorText error={r.error} />
      <section class="card">
        <h2>Deployments</h2>
        <table aria-label="Deployments">
          <thead><tr><th>Deployment</th><th>Status</th><th>URL</th><th>Build</th><th /></tr></thead>
          <tbody>
            {deployments.map((d) => (
              <tr key={d.id} data-deployment={d.id}>
                <td><a href={`#/deployments/${d.id}`}>{d.type} · {d.branch}</a> <span class="muted">{d.id}</span></td>
                <td><Status value={d.status} /> <span class="muted">{d.statusReason || ''}</span></td>
                <td>{d.publicUrl ? <a href={d.publicUrl} target="_blank" rel="noopener" data-link="public-url">{d.publicUrl}</a> : "—"}</td>
                <td>{d.currentBuildId ? <a href={`#/builds/${d.currentBuildId}`}>{d.currentBuildId}</a> : '—'}</td>
                <td><Action label="Build now" name="build-now" role={role} perm="build:create"
                  run={() => post(`/deployments/${d.id}/builds`, {})} done={(b) => { location.hash = `#/builds/${b.id}`; }} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        <Form title="New deployment" name="create-deployment" role={role} perm="deployment:create" submitLabel="Add deployment"
          fields={[['type', 'Type', { options: ['production', 'staging', 'preview'] }], ['branch', 'Branch', { required: false, placeholder: project.defaultBranch }]]}
          submit={(v) => post(`/projects/${id}/deployments`, v.branch ? v : { type: v.type })} done={r.reload} />
      </section>
      <section class="card">
        <h2>Environment variables</h2>
        <table aria-label="Environment variables">
          <thead><tr><th>Name</th><th>Value</th><th>Updated</th><th /></tr></thead>
          <tbody>
            {env.map((v) => (
              <tr key={v.name} data-var={v.name}>
                <td><code>{v.name}</code></td><td><code>{v.value}</code></td><td>{when(v.updatedAt)}</td>
                <td><Action label="Delete" name="delete-var" kind="danger" role={role} perm="env:delete"
                  run={() => del(`/projects/${id}/env/${encodeURIComponent(v.name)}`)} done={r.reload} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        <Form title="Set a variable" name="set-var" role={role} perm="env:update" submitLabel="Set"
          fields={[['name', 'Name', { pattern: '[A-Za-z_][A-Za-z0-9_]*' }], ['value', 'Value', { type: 'password', autocomplete: 'off' }]]}
          submit={(v) => put(`/projects/${id}/env/${encodeURIComponent(v.name)}`, { value: v.value })} done={r.reload} />
        <p class="muted">Values are encrypted and never shown again; builds and servers get them at the next deploy.</p>
      </section>
      <section class="card">
        <h2>Recent builds</h2>
        <table aria-label="Recent builds">
          <thead><tr><th>Build</th><th>Status</th><th>Trigger</th><th>Ref</th><th>Created</th></tr></thead>
          <tbody>
            {builds.map((b) => (
              <tr key={b.id}>
                <td><a href={`#/builds/${b.id}`}>{b.id}</a></td><td><Status value={b.status} /></td>
                <td>{b.trigger}</td><td>{b.ref || b.commit || '—'}</td><td>{when(b.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </>
  );
}
