import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { all, loadConfig, onUnauthorized, session } from './api.js';
import { SignIn } from './pages/signin.jsx';
import { Teams } from './pages/teams.jsx';
import { Projects } from './pages/projects.jsx';
import { Project } from './pages/project.jsx';
import { Build } from './pages/build.jsx';
import { Deployment } from './pages/deployment.jsx';
import { Traces, Trace } from './pages/traces.jsx';
import { Metrics } from './pages/metrics.jsx';
import { Usage } from './pages/usage.jsx';

// Hash routes: the static host needs no rewrite rules (S3/CloudFront, the local API server).
const ROUTES = [
  [/^\/teams$/, Teams],
  [/^\/projects$/, Projects],
  [/^\/projects\/([^/]+)$/, Project],
  [/^\/projects\/([^/]+)\/traces$/, Traces],
  [/^\/projects\/([^/]+)\/traces\/([^/]+)$/, Trace],
  [/^\/projects\/([^/]+)\/metrics$/, Metrics],
  [/^\/builds\/([^/]+)$/, Build],
  [/^\/deployments\/([^/]+)$/, Deployment],
  [/^\/usage$/, Usage],
];

const path = () => decodeURIComponent(location.hash.replace(/^#/, '').split('?')[0]) || '/projects';

function App() {
  const [route, setRoute] = useState(path());
  const [token, setToken] = useState(session.token());
  const [teams, setTeams] = useState(null);
  const [team, setTeam] = useState(session.team());
  useEffect(() => {
    const onHash = () => setRoute(path());
    addEventListener('hashchange', onHash);
    const off = onUnauthorized(() => { session.signOut(); setToken(null); });
    return () => { removeEventListener('hashchange', onHash); off(); };
  }, []);
  useEffect(() => {
    if (!token) return;
    all('/teams').then((items) => {
      setTeams(items);
      if (!items.some((t) => t.id === team) && items.length) { session.setTeam(items[0].id); setTeam(items[0].id); }
    }).catch(() => setTeams([]));
  }, [token]);
  useEffect(() => { document.body.dataset.ready = '1'; }, []);
  if (!token) return <SignIn onSignedIn={(t) => { session.signIn(t); setToken(t); }} />;
  if (!teams) return <main aria-busy="true"><p class="muted">Loading…</p></main>;
  const ctx = {
    teams,
    team: teams.find((t) => t.id === team) || teams[0],
    roleIn: (teamId) => (teams.find((t) => t.id === teamId) || {}).role,
    reloadTeams: async () => setTeams(await all('/teams')),
    chooseTeam: (id) => { session.setTeam(id); setTeam(id); },
  };
  let page = <p>No such page. <a href="#/projects">Projects</a></p>;
  for (const [re, Page] of ROUTES) {
    const m = route.match(re);
    if (m) { page = <Page key={route} ctx={ctx} params={m.slice(1)} />; break; }
  }
  return (
    <>
      <a class="skip" href="#main" onClick={(e) => { e.preventDefault(); document.getElementById('main').focus(); }}>Skip to content</a>
      <header class="top">
        <span class="brand">mastra-admin</span>
        <nav aria-label="Main">
          <a href="#/projects">Projects</a>
          <a href="#/teams">Teams</a>
          <a href="#/usage">Usage</a>
        </nav>
        <label class="row">Team
          <select aria-label="Team" value={ctx.team && ctx.team.id} onChange={(e) => ctx.chooseTeam(e.currentTarget.value)}>
            {teams.map((t) => <option key={t.id} value={t.id}>{t.name} ({t.role})</option>)}
          </select>
        </label>
        <button type="button" class="secondary" data-action="Sign out" onClick={() => { session.signOut(); setToken(null); }}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
    </>
  );
}

loadConfig().then(() => render(<App />, document.getElementById('app')));
