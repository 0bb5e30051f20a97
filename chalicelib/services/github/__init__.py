"""GitHub: a GitHub App's webhooks in (push deploys, pull request previews, installation changes),
commit statuses and pull request comments out, through their own queues."""
