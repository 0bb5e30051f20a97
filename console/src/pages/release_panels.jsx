import { useEffect, useRef, useState } from 'preact/hooks';
import { get } from '../api.js';
import { ErrorText, useResource } from '../ui.jsx';
import { Events, loadEvents } from './events.jsx';
import { Guard } from './guard.jsx';
import { Releases } from './releases.jsx';

async function load(id) {
  const [releases, guard, events] = await Promise.all([
    get(`/deployments/${id}/releases`), get(`/deployments/${id}/guard`), loadEvents(id)]);
  return { releases, guard, events };
}

// Releases, the guard and the timeline of a deployment. Not polled: they change when something is published on
// `deployment:{id}` (a deploy's progress, the guard's verdict), so they are read again when that channel speaks,
// and when the page's own view of the deploys (`version`) changes, in case a message came before its data.
export function ReleasePanels({ id, role, live, version }) {
  const r = useResource(() => load(id), [id]);
  const [older, setOlder] = useState({ items: [], nextCursor: undefined });
  const reload = useRef(r.reload);
  reload.current = r.reload;
  useEffect(() => {
    if (!live) return;
    live.subscribe(`deployment:${id}`, (m) => {
      if (m.type === 'guard' || m.type === 'deploy' || m.type === 'status') reload.current();
    });
  }, [live, id]);
  const shownVersion = useRef(version);
  useEffect(() => {
    if (shownVersion.current !== version) { shownVersion.current = version; reload.current(); }
  }, [version]);
  if (!r.data) return <section class="card"><h2>Releases and guard</h2><ErrorText error={r.error} /></section>;
  const { releases, guard, events } = r.data;
  const cursor = older.nextCursor === undefined ? events.nextCursor : older.nextCursor;
  const more = async () => {
    const page = await loadEvents(id, cursor);
    setOlder({ items: [...older.items, ...page.items], nextCursor: page.nextCursor || null });
  };
  // Older pages stay shown when the newest page is read again; an event on both is shown once.
  const seen = new Set();
  const items = [...events.items, ...older.items].filter((e) => !seen.has(e.id) && seen.add(e.id));
  return (
    <div class="release-panels">
      <ErrorText error={r.error} />
      <Releases id={id} releases={releases} />
      <Guard key={JSON.stringify([guard.enabled, guard.rules, guard.minRuns, guard.windowMinutes])} id={id} guard={guard} role={role} saved={r.reload} />
      <Events events={{ items, nextCursor: cursor }} more={more} />
    </div>
  );
}
