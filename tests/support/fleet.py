"""A fleet of running deployments written straight to the table (BatchWriteItem), and a runner
whose servers live only in memory: what the sharded sweeps and bench/scale.py work on."""
from __future__ import annotations

import threading
from dataclasses import dataclass, field

from chalicelib.db import keys
from chalicelib.db.models import ActiveServer, Claim, Deployment, Server, utcnow
from chalicelib.ids import new_id


@dataclass
class MemoryRunner:
    """Probes answer from memory (a set of dead server ids); counts its calls. Nothing else is called."""
    name: str = "memory"
    dead: set[str] = field(default_factory=set)
    probes: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def probe(self, server):
        from chalicelib.runners.deploy_port import Probe

        with self._lock:
            self.probes += 1
        alive = server.server_id not in self.dead
        return Probe(alive=alive, healthy=alive, detail="memory")

    def ship(self, server, final: bool = False) -> int:
        return 0

    def stop(self, server) -> None:
        self.dead.add(server.server_id)


@dataclass(frozen=True)
class Seeded:
    deployment_id: str
    server_id: str
    slug: str
    team_id: str


def seed_fleet(teams: int, per_team: int, runner: str = "memory") -> list[Seeded]:
    """`teams` × `per_team` running deployments, each served by one running server of `runner`."""
    now = utcnow()
    out: list[Seeded] = []
    with Deployment.batch_write() as deployments, Server.batch_write() as servers, \
            ActiveServer.batch_write() as markers, Claim.batch_write() as claims:
        for t in range(teams):
            team_id = new_id("team")
            project_id = new_id("project")
            for d in range(per_team):
                deployment_id, server_id = new_id("deployment"), new_id("server")
                slug = f"t{t}-d{d}-{deployment_id[-6:]}"
                deployments.save(Deployment(
                    keys.deployment(deployment_id), keys.META, gsi1pk=keys.project_deployments(project_id),
                    gsi1sk=keys.sorted_by_time(now.isoformat(), deployment_id), deployment_id=deployment_id,
                    project_id=project_id, team_id=team_id, type="preview", branch=f"b{d}", slug=slug,
                    status="running", server_id=server_id, upstream=f"10.0.{t % 250}.{d % 250}:8080"))
                claims.save(Claim(keys.slug(slug), keys.META, owner_id=deployment_id))
                servers.save(Server(
                    keys.server(server_id), keys.META, gsi1pk=keys.deployment_servers(deployment_id),
                    gsi1sk=keys.sorted_by_time(now.isoformat(), server_id), server_id=server_id,
                    deployment_id=deployment_id, build_id=new_id("build"), team_id=team_id, project_id=project_id,
                    runner=runner, status="running", health="healthy", host="10.0.0.1", port=8080,
                    created_at=now, updated_at=now))
                markers.save(ActiveServer(keys.ACTIVE_SERVERS, server_id, server_id=server_id))
                out.append(Seeded(deployment_id, server_id, slug, team_id))
    return out
