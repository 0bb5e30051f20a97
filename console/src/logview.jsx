import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { LogAssembler } from './live.js';

export const ROW = 20; // px, as --row in styles.css: every line the same height, so streaming shifts nothing
const OVERSCAN = 30;

// A virtualised log: only the rows in view (and a margin) are in the DOM, each absolutely placed at
// line × ROW inside a box as tall as the whole log, so line 100,000 is reached by scrolling. It follows
// the end while scrolled to the bottom.
export function LogView({ lines, version, label, need }) {
  const box = useRef(null);
  const stick = useRef(true);
  const [view, setView] = useState({ top: 0, height: 480 });
  const onScroll = () => {
    const el = box.current;
    stick.current = el.scrollTop + el.clientHeight >= el.scrollHeight - ROW * 2;
    setView({ top: el.scrollTop, height: el.clientHeight });
  };
  useLayoutEffect(() => {
    const el = box.current;
    if (stick.current && el.scrollHeight > el.clientHeight) el.scrollTop = el.scrollHeight - el.clientHeight;
  }, [version]);
  const n = lines.length;
  const first = Math.max(0, Math.floor(view.top / ROW) - OVERSCAN);
  const last = Math.min(n, Math.ceil((view.top + view.height) / ROW) + OVERSCAN);
  const rows = [];
  let missing = -1;
  for (let i = first; i < last; i++) {
    if (lines[i] === undefined && missing < 0) missing = i;
    rows.push(<div class="line" key={i} style={{ top: `${i * ROW}px` }} data-line={i + 1}><span class="n">{i + 1}</span>{lines[i] ?? '…'}</div>);
  }
  useEffect(() => { if (missing >= 0 && need) need(missing); }, [missing, version]);
  return (
    <div class="log" ref={box} role="log" aria-label={label} aria-live="off" tabIndex={0} onScroll={onScroll} data-lines={n}>
      <div class="sizer" style={{ height: `${n * ROW}px` }}>{rows}</div>
    </div>
  );
}

// Follows one log: reads what is stored over REST (`page(offset)` → {offset, lines, nextOffset}; `first()` for
// the opening read, which may start at the tail of a long log: the lines before it stay holes, read a page at
// a time when scrolled into view, so a 100,000-line log costs one page to open), then the live channel, subscribed with `since` = the next line wanted, so a reconnect
// resumes without gap or duplicate; a gap in the live lines is filled from REST. Other messages of the
// channel (status, health) go to `onOther`.
export function useFollowedLog(live, channel, first, page, onOther) {
  const store = useRef(null);
  const other = useRef(onOther);
  other.current = onOther;
  const [version, setVersion] = useState(0);
  useEffect(() => {
    if (!live || !channel) return undefined;
    const s = { lines: [], asm: new LogAssembler(0), filling: false, frame: 0, gone: false, loading: new Set() };
    store.current = s;
    const redraw = () => {
      if (s.frame || s.gone) return;
      s.frame = requestAnimationFrame(() => { s.frame = 0; setVersion((v) => v + 1); });
    };
    const append = (lines) => { for (const l of lines) s.lines.push(l); redraw(); };
    const fill = async () => {
      if (s.filling) return;
      s.filling = true;
      try {
        for (;;) {
          const p = await page(s.asm.next);
          const fresh = s.asm.feed({ offset: p.offset, lines: p.lines }) || [];
          append(fresh);
          if (!p.lines.length) break;
        }
      } finally {
        s.filling = false;
      }
    };
    s.need = async (from) => {
      const at = from - (from % 1000);
      if (s.loading.has(at)) return;
      s.loading.add(at);
      const p = await page(at);
      p.lines.forEach((line, i) => { if (p.offset + i < s.asm.next && s.lines[p.offset + i] === undefined) s.lines[p.offset + i] = line; });
      redraw();
    };
    (async () => {
      const opening = await first();
      s.lines.length = opening.offset; // holes until scrolled to
      s.asm.next = opening.offset;
      append(s.asm.feed({ offset: opening.offset, lines: opening.lines }));
      if (opening.more) await fill();
      if (s.gone) return;
      live.subscribe(channel, (m) => {
        if (m.type !== 'log') { if (other.current) other.current(m); return; }
        const fresh = s.asm.feed(m);
        if (fresh === null) fill(); else append(fresh);
      }, () => s.asm.next);
    })();
    return () => { s.gone = true; cancelAnimationFrame(s.frame); };
  }, [live, channel]);
  const s = store.current;
  return { lines: s ? s.lines : [], version, need: s ? s.need : undefined };
}
