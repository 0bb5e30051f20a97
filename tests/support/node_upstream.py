"""A plain Node HTTP server (`node -e`, http.createServer) to put behind the router in tests and benches.

    /echo     answers 200 with what it received: method, url, raw headers, body
    /stream   three server-sent events, 0.2 s apart
    /slow     answers after 3 s
    anything  else: {"ok": true}
"""
from __future__ import annotations

import subprocess
from dataclasses import dataclass

SCRIPT = r"""
const http = require("node:http");
const server = http.createServer((req, res) => {
  if (req.url.startsWith("/echo")) {
    const parts = [];
    req.on("data", (c) => parts.push(c));
    req.on("end", () => {
      const body = Buffer.concat(parts).toString();
      res.setHeader("content-type", "application/json");
      res.end(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, body }));
    });
    return;
  }
  if (req.url.startsWith("/stream")) {
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    let i = 0;
    const tick = () => {
      res.write(`data: ${i} ${req.url}\n\n`);
      if (++i < 3) setTimeout(tick, 200); else res.end();
    };
    return tick();
  }
  if (req.url.startsWith("/slow")) {
    return setTimeout(() => res.end("late"), 3000);
  }
  res.setHeader("content-type", "application/json");
  res.end('{"ok":true}');
});
server.listen(0, "127.0.0.1", () => console.log(server.address().port));
"""


@dataclass
class NodeUpstream:
    proc: subprocess.Popen
    port: int

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


def start_node_upstream() -> NodeUpstream:
    proc = subprocess.Popen(["node", "-e", SCRIPT], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if not line.strip().isdigit():
        proc.kill()
        proc.wait()
        raise RuntimeError(f"the Node upstream did not start: {line!r}")
    return NodeUpstream(proc, int(line))
