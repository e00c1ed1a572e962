"""Which function reads which command: the path ("config create") to its reader."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from bot.commands import Command
from bot.grammar import (
    config_commands,
    deployed_object_commands,
    doctor_commands,
    event_commands,
    extension_commands,
    fleet_commands,
    key_commands,
    kustomization_commands,
    pull_request_commands,
    reconcile_commands,
    watch_commands,
)
from bot.grammar.clusters_and_audit import audit, clusters
from bot.grammar.freeze_commands import freezes

Reader = Callable[[Sequence[str]], Command]

READERS: dict[str, Reader] = {
    "clusters": clusters,
    "config create": config_commands.config_create,
    "config update": config_commands.config_update,
    "config delete": config_commands.config_delete,
    "config show": config_commands.config_show,
    "config list": config_commands.config_list,
    "status": config_commands.status,
    "suspend": config_commands.suspend,
    "resume": config_commands.resume,
    "reconcile": reconcile_commands.reconcile,
    "watch": watch_commands.watch,
    "unwatch": watch_commands.unwatch,
    "watches": watch_commands.watches,
    "events": event_commands.events,
    "kustomization create": kustomization_commands.kustomization_create,
    "kustomization update": kustomization_commands.kustomization_update,
    "kustomization delete": kustomization_commands.kustomization_delete,
    "kustomization show": kustomization_commands.kustomization_show,
    "kustomization list": kustomization_commands.kustomization_list,
    "extension create": extension_commands.extension_create,
    "extension update": extension_commands.extension_update,
    "extension delete": extension_commands.extension_delete,
    "extension show": extension_commands.extension_show,
    "extension list": extension_commands.extension_list,
    "deployed-object list": deployed_object_commands.deployed_object_list,
    "deployed-object show": deployed_object_commands.deployed_object_show,
    "key rotate": key_commands.key_rotate,
    "key status": key_commands.key_status,
    "audit": audit,
    "freezes": freezes,
    "plan": pull_request_commands.plan,
    "apply": pull_request_commands.apply,
    "confirm": pull_request_commands.confirm,
    "approve": pull_request_commands.approve,
    "cancel": pull_request_commands.cancel,
    "unlock": pull_request_commands.unlock,
    "fleet apply": fleet_commands.fleet_apply,
    "fleet extension update": fleet_commands.fleet_extension_update,
    "fleet status": fleet_commands.fleet_status,
    "fleet list": fleet_commands.fleet_list,
    "fleet cancel": fleet_commands.fleet_cancel,
    "fleet resume": fleet_commands.fleet_resume,
    "doctor": doctor_commands.doctor,
    "v1 list": doctor_commands.v1_list,
    "v1 migrate": doctor_commands.v1_migrate,
}
