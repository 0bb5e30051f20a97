import { all, post } from '../api.js';
import { ErrorText, Form, useResource, when } from '../ui.jsx';

// A project from a local path (local stack) or a git URL, with its first deployment.
async function createProject(teamId, v) {
  const source = v.sourceType === 'git' ? { type: 'git', url: v.location } : { type: 'local', path: v.location };
  const project = await post(`/teams/${teamId}/projects`, { name: v.name, source });
  if (v.deployment !== 'none') await post(`/projects/${project.id}/deployments`, { type: v.deployment });
  return project;
}

export function Projects({ ctx }) {
  const team = ctx.team;
  const projects = useResource(() => all(`/teams/${team.id}/projects`), [team.id]);
  return (
    <>
      <h1>Projects of {team.name}</h1>
      <section class="card">
        <ErrorText error={projects.error} />
        <table aria-label="Projects">
          <thead><tr><th>Project</th><th>Source</th><th>Branch</th><th>Created</th></tr></thead>
          <tbody>
            {(projects.data || []).map((p) => (
              <tr key={p.id}>
                <td><a href={`#/projects/${p.id}`}>{p.name}</a> <span class="muted">{p.id}</span></td>
                <td>{p.source.type}: {p.source.path || p.source.url || p.source.repo || p.source.repository}</td>
                <td>{p.defaultBranch}</td><td>{when(p.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
        {projects.data && !projects.data.length && <p class="muted">No project yet.</p>}
      </section>
      <section class="card">
        <h2>New project</h2>
        <Form title="New project" name="create-project" role={team.role} perm="project:create" submitLabel="Create project"
          fields={[['name', 'Name'], ['sourceType', 'Source', { options: ['local', 'git'] }],
            ['location', 'Path or git URL'], ['deployment', 'First deployment', { options: ['production', 'staging', 'preview', 'none'] }]]}
          submit={(v) => createProject(team.id, v)} done={(p) => { location.hash = `#/projects/${p.id}`; }} />
      </section>
    </>
  );
}
