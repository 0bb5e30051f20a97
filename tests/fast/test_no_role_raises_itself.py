"""No action lets an actor grant, act as, demote or remove a role ranked above their own.

A property over (actor role, target role, new role, action), run in-process: members are added,
re-roled and removed; keys are minted for an existing member, for an existing machine member and
for a new machine member (a key acts with its member's role, so minting one is acting as it).
"""
from __future__ import annotations

import itertools
import uuid

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.auth.rbac import RANK, Role, allows

ACTIONS = ("add_member", "change_role", "remove_member", "mint_for_member", "mint_for_machine_member",
           "mint_for_new_machine_member")
PERMISSION = {"add_member": "member:create", "change_role": "member:update", "remove_member": "member:delete"}
_n = itertools.count()


def expected_to_succeed(actor: Role, target: Role, new: Role, action: str) -> bool:
    if not allows(actor, PERMISSION.get(action, "apikey:manage")):
        return False
    ranks = [target, new] if action == "change_role" else [target]
    return all(RANK[r] <= RANK[actor] for r in ranks)


@settings(max_examples=48, deadline=None, database=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(actor=st.sampled_from(Role), target=st.sampled_from(Role), new=st.sampled_from(Role),
       action=st.sampled_from(ACTIONS))
def test_no_action_raises_anyone_above_the_actor(api, as_user, actor, target, new, action):
    tag = f"{uuid.uuid4().hex[:6]}-{next(_n)}"
    founder, actor_id, target_id = f"founder-{tag}", f"actor-{tag}", f"target-{tag}"
    boss = as_user(founder)
    team = boss.post(api.url("/teams"), json={"name": "ranks"}).json()["id"]
    members, keys = api.url(f"/teams/{team}/members"), api.url(f"/teams/{team}/api-keys")
    assert boss.post(members, json={"userId": actor_id, "role": actor.value}).status_code == 201
    if action in ("change_role", "remove_member", "mint_for_member"):
        assert boss.post(members, json={"userId": target_id, "role": target.value}).status_code == 201
    elif action == "mint_for_machine_member":
        target_id = f"machine:bot-{tag}"
        made = boss.post(keys, json={"name": "bot", "machineUser": f"bot-{tag}", "role": target.value})
        assert made.status_code == 201, made.text
    before = _roles(boss, members)

    me = as_user(actor_id)
    r = {
        "add_member": lambda: me.post(members, json={"userId": target_id, "role": target.value}),
        "change_role": lambda: me.patch(f"{members}/{target_id}", json={"role": new.value}),
        "remove_member": lambda: me.delete(f"{members}/{target_id}"),
        "mint_for_member": lambda: me.post(keys, json={"name": "k", "userId": target_id}),
        "mint_for_machine_member": lambda: me.post(keys, json={"name": "k", "machineUser": target_id[8:],
                                                                "role": "viewer"}),
        "mint_for_new_machine_member": lambda: me.post(keys, json={"name": "k", "machineUser": f"new-{tag}",
                                                                    "role": target.value}),
    }[action]()

    where = f"{actor.value} {action} target={target.value} new={new.value}: {r.status_code} {r.text[:200]}"
    if expected_to_succeed(actor, target, new, action):
        assert 200 <= r.status_code < 300, where
        return
    assert r.status_code == 403, where
    assert _roles(boss, members) == before, where  # nothing was granted, demoted or removed
    if action.startswith("mint"):
        listed = boss.get(keys).json()["items"]
        assert all(k["name"] != "k" for k in listed), where  # and no key was minted


def _roles(session, members_url) -> dict[str, str]:
    return {m["userId"]: m["role"] for m in session.get(members_url, params={"limit": 100}).json()["items"]}
