// The WebSocket API: each (re)connect mints a single-use ticket (POST /ws/tickets) and subscribes every
// channel again; a log channel resumes with `since` = the next line it wants, so no line is missed or
// shown twice after a drop (the CLI's LogAssembler, the same rules).
import { config, post } from './api.js';

export class LogAssembler {
  constructor(next = 0) { this.next = next; this.parts = new Map(); }

  // Lines of a {"type":"log"} message not seen yet; null when lines are missing (fill from REST).
  feed(m) {
    const lines = m.lines || [];
    if (m.parts != null) {
      if (m.offset < this.next) return [];
      if (m.offset > this.next) return null;
      this.parts.set(m.part || 0, lines[0] || '');
      if (this.parts.size < m.parts) return [];
      const whole = [...Array(m.parts).keys()].map((i) => this.parts.get(i)).join('');
      this.parts.clear();
      this.next += 1;
      return [whole];
    }
    if (m.offset > this.next) return null;
    const fresh = lines.slice(this.next - m.offset);
    this.next += fresh.length;
    return fresh;
  }
}

export class Live {
  constructor(onState = () => {}) {
    this.subs = new Map();
    this.onState = onState;
    this.ws = null;
    this.closed = false;
    this.connects = 0;
    this.connect();
  }

  subscribe(channel, onMessage, since = () => null) {
    this.subs.set(channel, { onMessage, since });
    this.send(channel);
  }

  send(channel) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) return;
    const request = { action: 'subscribe', channel };
    const since = this.subs.get(channel).since();
    if (since !== null && since !== undefined) request.since = since;
    this.ws.send(JSON.stringify(request));
  }

  async connect() {
    if (this.closed) return;
    this.onState('connecting');
    try {
      const minted = await post('/ws/tickets');
      const url = config.wsUrl ? `${config.wsUrl.replace(/\/$/, '')}?ticket=${minted.ticket}` : minted.url;
      if (!url) throw new Error('the API has no WebSocket URL configured');
      const ws = new WebSocket(url);
      this.ws = ws;
      ws.onopen = () => { this.connects += 1; this.onState('live'); for (const ch of this.subs.keys()) this.send(ch); };
      ws.onmessage = (e) => {
        const m = JSON.parse(e.data);
        const sub = this.subs.get(m.channel);
        if (sub) sub.onMessage(m);
      };
      ws.onclose = () => { if (this.ws === ws) this.retry(); };
    } catch {
      this.retry();
    }
  }

  retry() {
    this.ws = null;
    if (this.closed) return;
    this.onState('reconnecting');
    setTimeout(() => this.connect(), 500);
  }

  // Drops the socket as a network failure would (the page's "reconnect" control and the tests use it).
  drop() { if (this.ws) this.ws.close(); }

  close() { this.closed = true; if (this.ws) this.ws.close(); }
}
