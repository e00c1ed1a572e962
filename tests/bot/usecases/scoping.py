"""Policies for use-case tests that hand out credentials: operators everywhere, plus scoped credentials."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from bot.config_file import FluxopsConfig
from bot.policy import Policy


def with_credentials(
    credentials: Mapping[str, Sequence[str]],
    *,
    clusters: Sequence[str] = ("*",),
    user: str = "U123",
    operator_on: Sequence[str] = (),
    role: str = "operator",
    public: Sequence[str] = (),
) -> Policy:
    """Slack user ``user`` is an operator (on ``operator_on``, or everywhere), and each credential named serves
    the repository globs given for it on the clusters named by ``clusters``; those in ``public`` are declared
    public material (a CA certificate)."""
    config = FluxopsConfig.model_validate(
        {
            "roles": [
                {
                    "role": role,
                    "slack_users": [user],
                    "clusters": {"names": list(operator_on)} if operator_on else {},
                }
            ],
            "credentials": {
                name: {
                    "file": f"/run/secrets/{name}",
                    "repositories": list(globs),
                    "clusters": {"names": list(clusters)},
                    "public": name in public,
                }
                for name, globs in credentials.items()
            },
        }
    )
    return Policy(config)
