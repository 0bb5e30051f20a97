import { useState } from 'preact/hooks';
import { all, del, patch, post } from '../api.js';
import { denied, outranks, roles } from '../rbac.js';
import { Action, ErrorText, Form, useResource, when } from '../ui.jsx';

function MemberRow({ team, member, reload }) {
  const [role, setRole] = useState(member.role);
  const mine = team.role;
  const above = !outranks(mine, member.role) ? `A ${mine} cannot change a ${member.role}` : null;
  const grant = !outranks(mine, role) ? `A ${mine} cannot grant ${role}` : null;
  return (
    <tr data-member={member.userId}>
      <td>{member.userId}{member.machine ? ' (machine)' : ''}</td>
      <td>
        <select aria-label={`Role of ${member.userId}`} value={role} disabled={!!(denied(mine, 'member:update') || above)}
          onChange={(e) => setRole(e.currentTarget.value)}>
          {roles.map((r) => <option key={r} value={r}>{r}</option>)}
        </select>
      </td>
      <td>{when(member.createdAt)}</td>
      <td class="row">
        <Action label="Change role" name="change-role" role={mine} perm="member:update"
          why={above || grant || (role === member.role ? 'Pick another role first' : null)}
          run={() => patch(`/teams/${team.id}/members/${encodeURIComponent(member.userId)}`, { role })} done={reload} />
        <Action label="Remove" name="remove-member" kind="danger" role={mine} perm="member:delete" why={above}
          confirm={`Remove ${member.userId} from ${team.name}?`}
          run={() => del(`/teams/${team.id}/members/${encodeURIComponent(member.userId)}`)} done={reload} />
      </td>
    </tr>
  );
}

export function Teams({ ctx }) {
  const team = ctx.team;
  const members = useResource(() => (team ? all(`/teams/${team.id}/members`) : []), [team && team.id]);
  return (
    <>
      <h1>Teams</h1>
      <section class="card">
        <table aria-label="Your teams">
          <thead><tr><th>Team</th><th>Your role</th><th>Created</th><th /></tr></thead>
          <tbody>
            {ctx.teams.map((t) => (
              <tr key={t.id}>
                <td>{t.name} <span class="muted">{t.id}</span></td><td>{t.role}</td><td>{when(t.createdAt)}</td>
                <td><Action label="Open" name="open-team" why={t.id === team.id ? 'This is the current team' : null}
                  run={async () => ctx.chooseTeam(t.id)} /></td>
              </tr>
            ))}
          </tbody>
        </table>
        <Form title="New team" name="create-team" fields={[['name', 'Team name']]} submitLabel="Create team"
          submit={(v) => post('/teams', { name: v.name })} done={ctx.reloadTeams} />
      </section>
      {team && (
        <section class="card">
          <h2>Members of {team.name}</h2>
          <ErrorText error={members.error} />
          <table aria-label="Members">
            <thead><tr><th>User</th><th>Role</th><th>Since</th><th /></tr></thead>
            <tbody>{(members.data || []).map((m) => <MemberRow key={m.userId + m.role} team={team} member={m} reload={members.reload} />)}</tbody>
          </table>
          <Form title="Invite a member" name="invite" role={team.role} perm="member:create" submitLabel="Invite"
            fields={[['userId', 'User id'], ['role', 'Role', { options: roles.filter((r) => outranks(team.role, r)).reverse() }]]}
            submit={(v) => post(`/teams/${team.id}/members`, { userId: v.userId, role: v.role })} done={members.reload} />
        </section>
      )}
    </>
  );
}
