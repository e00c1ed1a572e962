"""One neutral document per view (``bot.render.document``), built once for every platform.

``build`` takes any view of ``bot.views``; the modules are grouped by view family: ``jobs`` (job,
confirmation, text), ``configs`` (a Flux configuration, its kustomizations and objects, the list of
configurations), ``extensions`` (the Flux extension, every extension of a cluster), ``deployed_objects``
(what a configuration deployed), ``inventory`` (clusters, audit log), ``push`` (a pushed commit
traced over clusters, and its check run) and ``fleet`` (a fleet run, wave by wave).
"""

from __future__ import annotations

from bot.render.document import Document
from bot.render.documents.fleet import fleet_document
from bot.render.documents.jobs import confirm_document, job_document, text_document
from bot.render.documents.push import push_document
from bot.views import ConfirmView, FleetRunView, JobView, PushView, View


def build(view: View) -> Document:
    """The neutral document of ``view``."""
    if isinstance(view, JobView):
        return job_document(view)
    if isinstance(view, ConfirmView):
        return confirm_document(view)
    if isinstance(view, PushView):
        return push_document(view)
    if isinstance(view, FleetRunView):
        return fleet_document(view)
    return text_document(view)
