import { useState } from 'preact/hooks';
import { request } from '../api.js';
import { ErrorText } from '../ui.jsx';

// An API key (ma_…) or a JWT: checked with GET /teams before it is kept (sessionStorage: gone with the tab).
export function SignIn({ onSignedIn }) {
  const [error, setError] = useState(null);
  const submit = async (e) => {
    e.preventDefault();
    const token = new FormData(e.currentTarget).get('token').trim();
    try {
      await request('GET', '/teams', { token });
      onSignedIn(token);
    } catch (err) {
      setError(err);
    }
  };
  return (
    <main class="signin">
      <section class="card">
        <h1>Sign in to mastra-admin</h1>
        <form onSubmit={submit} aria-label="Sign in">
          <label>API key or JWT
            <input name="token" type="password" autocomplete="off" required placeholder="ma_… or eyJ…" />
          </label>
          <button type="submit" data-action="Sign in">Sign in</button>
          <ErrorText error={error} />
          <p class="muted">The key is kept in this tab's session storage only. The local stack prints the first
            owner key at start (<code>.mastra-admin/owner-key</code>).</p>
        </form>
      </section>
    </main>
  );
}
