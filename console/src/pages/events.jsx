import { get } from '../api.js';
import { Action, Status, when } from '../ui.jsx';

export const EVENTS_PAGE = 6; // the newest few; older ones on demand

export const loadEvents = (id, cursor) => get(`/deployments/${id}/events`, { limit: EVENTS_PAGE, cursor });

const TITLE = { deploy: 'Deploy', redeploy: 'Redeploy', rollback: 'Rollback', restart: 'Restart', stop: 'Stop', guard: 'Release guard' };

function Event({ e }) {
  const byGuard = e.by === 'release-guard';
  return (
    <li data-event={e.id} data-type={e.type} class={byGuard ? 'by-guard' : ''}>
      <span class="muted">{when(e.at)}</span> <strong>{TITLE[e.type] || e.type}</strong> <Status value={e.status} />
      {e.buildId && <> of <a href={`#/builds/${e.buildId}`}>{e.buildId}</a></>}
      {e.by && <span> by <span data-by>{e.by}</span></span>}
      {e.evaluation && <span class="muted" data-runs> · head {e.evaluation.headRuns ?? '?'} runs against base {e.evaluation.baseRuns ?? '?'}</span>}
      {e.reason && <div class="muted" data-reason>{e.reason}</div>}
    </li>
  );
}

// Deploys, rollbacks (who and why) and the guard's actions, newest first; the page reloads the newest on its live channel.
export function Events({ events, more }) {
  return (
    <section class="card" aria-label="Events">
      <h2>Events</h2>
      {events.items.length ? <ol class="events" aria-label="Timeline">{events.items.map((e) => <Event key={e.id} e={e} />)}</ol>
        : <p class="muted">Nothing happened yet.</p>}
      {events.nextCursor && <Action label="Older events" name="older-events" kind="secondary" run={more} />}
    </section>
  );
}
