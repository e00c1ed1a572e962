"""`/flux unlock CLUSTER`: an admin releases the claim a pull request holds on a cluster.

Claims keep two pull requests from applying to one cluster at once; they end when the pull request
merges or closes, or expire. A pull request that is abandoned without closing would hold its clusters
until then: an admin releases them here (the job is audited like any change).
"""

from __future__ import annotations

from bot.commands import Unlock
from bot.errors import ConfigurationError
from bot.usecases.context import Job, ResolvedCluster
from bot.views import Phase


def unlock(job: Job, command: Unlock, where: ResolvedCluster) -> None:
    claims = job.ports.claims
    if claims is None:
        raise ConfigurationError("this fluxops keeps no cluster claims", recommendation="nothing to unlock")
    holder = claims.release(where.cluster.ref.arm_id)
    if holder is None:
        job.show(phase=Phase.SUCCEEDED, note=f"{where.label} was not claimed by any pull request")
        return
    job.show(
        phase=Phase.SUCCEEDED,
        note=f"{where.label} is unlocked: it was claimed by {holder}; other pull requests may apply to it now",
    )
