"""GitHub's items: webhook deliveries (dedupe), repository links, pull request previews, counters."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.db import keys
from chalicelib.db.conditional import applied, update_if
from chalicelib.db.errors import translated
from chalicelib.db.models import GithubLink, GithubWriteMark, PullPreview, WebhookCounter, WebhookDelivery, utcnow


# --- deliveries ----------------------------------------------------------------------------------


def record_delivery(delivery_id: str, event: str, action: str | None, ttl: timedelta) -> bool:
    """True if this delivery id is new; False for a redelivery (one conditional put decides)."""
    item = WebhookDelivery(keys.webhook_delivery(delivery_id), keys.META, delivery_id=delivery_id,
                           event=event, action=action, expires_at=utcnow() + ttl)
    return applied(lambda: item.save(condition=WebhookDelivery.pk.does_not_exist()))



def forget_delivery(delivery_id: str) -> None:
    """The delivery could not be queued: let GitHub's redelivery try again."""
    with translated():
        WebhookDelivery(keys.webhook_delivery(delivery_id), keys.META).delete()


def mark_handled(delivery_id: str, outcome: str) -> bool:
    """True for the one consumer that finished the delivery first."""
    return update_if(WebhookDelivery, keys.webhook_delivery(delivery_id), keys.META,
                     [WebhookDelivery.handled_at.set(utcnow()), WebhookDelivery.outcome.set(outcome[:500])],
                     WebhookDelivery.pk.exists() & WebhookDelivery.handled_at.does_not_exist())


def find_delivery(delivery_id: str) -> WebhookDelivery | None:
    with translated():
        try:
            return WebhookDelivery.get(keys.webhook_delivery(delivery_id), keys.META, consistent_read=True)
        except WebhookDelivery.DoesNotExist:
            return None


def count(outcome: str, event: str, action: str | None) -> None:
    sk = f"{outcome}#{event}#{action or '-'}"
    with translated():
        # An update creates the item without its discriminator unless told: set it, or queries skip it.
        WebhookCounter(keys.WEBHOOK_COUNTS, sk).update([WebhookCounter.count.add(1),
                                                        WebhookCounter.kind.set(WebhookCounter)])


def counts() -> dict[str, int]:
    with translated():
        return {c.sk: int(c.count) for c in WebhookCounter.query(keys.WEBHOOK_COUNTS, consistent_read=True)}


def write_is_newest(target: str, seq: int) -> bool:
    """True if no write to `target` queued after `seq` was let through; records `seq` if so."""
    item = GithubWriteMark(keys.github_write(target), keys.META)
    return applied(lambda: item.update(
        [GithubWriteMark.seq.set(seq), GithubWriteMark.kind.set(GithubWriteMark),
         GithubWriteMark.expires_at.set(utcnow() + timedelta(days=7))],
        condition=GithubWriteMark.seq.does_not_exist() | (GithubWriteMark.seq <= seq)))


# --- repository links ----------------------------------------------------------------------------


def put_link(repository: str, project_id: str, installation_id: int) -> None:
    with translated():
        GithubLink(keys.github_repo(repository), keys.project(project_id), repository=repository,
                   project_id=project_id, installation_id=installation_id,
                   gsi1pk=keys.github_installation(installation_id),
                   gsi1sk=f"{repository.lower()}#{project_id}").save()


def drop_link(repository: str, project_id: str) -> None:
    with translated():
        GithubLink(keys.github_repo(repository), keys.project(project_id)).delete()


def links_for_repository(repository: str) -> list[GithubLink]:
    with translated():
        return list(GithubLink.query(keys.github_repo(repository), GithubLink.sk.startswith("PROJECT#")))


def links_for_installation(installation_id: int) -> list[GithubLink]:
    with translated():
        return list(GithubLink.gsi1.query(keys.github_installation(installation_id)))


# --- pull request previews -----------------------------------------------------------------------


def find_pull(project_id: str, number: int) -> PullPreview | None:
    with translated():
        try:
            return PullPreview.get(keys.project(project_id), keys.github_pull_sk(number), consistent_read=True)
        except PullPreview.DoesNotExist:
            return None


def pull_for_deployment(deployment_id: str) -> PullPreview | None:
    with translated():
        for item in PullPreview.gsi1.query(keys.deployment_github(deployment_id), limit=1):
            return item
    return None


def save_pull(pull: PullPreview) -> None:
    if pull.deployment_id:
        pull.gsi1pk, pull.gsi1sk = keys.deployment_github(pull.deployment_id), "PULL"
    pull.updated_at = utcnow()
    with translated("The pull request's preview changed meanwhile", code="version_conflict"):
        pull.save()


def set_comment_id(project_id: str, number: int, comment_id: int) -> bool:
    """Recorded once: of two writers racing to create the comment, the second edits the first's."""
    return update_if(PullPreview, keys.project(project_id), keys.github_pull_sk(number),
                     [PullPreview.comment_id.set(comment_id)],
                     PullPreview.pk.exists() & PullPreview.comment_id.does_not_exist())


def new_pull(project_id: str, number: int) -> PullPreview:
    return PullPreview(keys.project(project_id), keys.github_pull_sk(number), project_id=project_id, number=number)

