"""The simulated Flux agent: each cluster's flux configurations reconciled against real git repositories.

Per configuration, as the Azure flux agent and the Flux controllers would: fetch the source (auth
checked by :class:`~sandbox.git_access.GitAccess`), then build and "apply" each kustomization in
dependsOn order, one step at a time, and report everything in the configuration's ``statuses``
with the compliance roll-up ARM shows. Nothing is applied anywhere: a kustomization succeeds when
its path exists and every manifest under it builds and parses. Git and YAML work runs in threads.

- :mod:`~sandbox.fluxsim.scheduler`: the reconcile loops (:class:`FluxSimulator`);
- :mod:`~sandbox.fluxsim.sources`: fetching sources, with access checks and the fetch log;
- :mod:`~sandbox.fluxsim.kustomize`: building a kustomization (pure), and the cache fleets share builds through;
- :mod:`~sandbox.fluxsim.dependencies`: dependsOn order and blocked kustomizations;
- :mod:`~sandbox.fluxsim.reporting`: statuses and the compliance roll-up;
- :mod:`~sandbox.fluxsim.state`: what the agent holds per configuration.
"""

from __future__ import annotations

from sandbox.fluxsim.kustomize import build_kustomization
from sandbox.fluxsim.scheduler import DEFAULT_INTERVAL, FluxSimulator
from sandbox.fluxsim.state import FetchAttempt

__all__ = ["DEFAULT_INTERVAL", "FetchAttempt", "FluxSimulator", "build_kustomization"]
