"""Who is calling and what they may do: ``connectionData``, ``identities`` and the Git namespace's ACLs."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from sandbox.azure_devops import payloads
from sandbox.azure_devops.directory import DESCRIPTOR_PREFIX, GIT_NAMESPACE
from sandbox.azure_devops.rest.calls import (
    Call,
    Endpoints,
    Params,
    json_response,
    list_response,
    lower_query,
)


class Identity(Endpoints):
    """The calling user, the organization's identities, and access control lists."""

    async def connection_data(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        me = self._identity_record(call.user)
        return json_response(
            {
                "authenticatedUser": me,
                "authorizedUser": me,
                "instanceId": self.org.id,
                "deploymentId": payloads.stable_id("deployment", self.org.name),
                "deploymentType": "hosted",
                "locationServiceData": {
                    "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
                    "defaultAccessMappingMoniker": "PublicAccessMapping",
                    "lastChangeId": 1,
                    "lastChangeId64": 1,
                },
            }
        )

    async def identities(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        query = lower_query(request)
        wanted = (query.get("filtervalue") or "").casefold()
        found = []
        for unique, display in self.org.members.items():
            local = unique.split("@", 1)[0]
            if wanted and wanted in (unique.casefold(), display.casefold(), local.casefold()):
                found.append(self._identity_record(unique))
        return json_response({"count": len(found), "value": found})

    def _identity_record(self, unique_name: str) -> dict[str, Any]:
        ref = self.org.identity(unique_name)
        return {
            "id": ref["id"],
            "descriptor": f"{DESCRIPTOR_PREFIX}{unique_name}",
            "subjectDescriptor": ref["descriptor"],
            "providerDisplayName": ref["displayName"],
            "isActive": True,
            "isContainer": False,
            "members": [],
            "memberOf": [],
            "memberIds": [],
            "properties": {
                "Account": {"$type": "System.String", "$value": unique_name},
                "Mail": {"$type": "System.String", "$value": unique_name if "@" in unique_name else ""},
            },
            "resourceVersion": 2,
            "metaTypeId": 0,
        }

    async def access_control_lists(self, request: web.Request, p: Params, call: Call) -> web.StreamResponse:
        """ACLs of the Git security namespace: the one of ``token`` (with ``recurse``, its children too),
        each with the ACEs of the ``descriptors`` asked for (all when none) and, with ``includeExtendedInfo``,
        the effective bits inherited from parent tokens."""
        if p["namespace"].lower() != GIT_NAMESPACE:
            return list_response([])  # the fake keeps no other namespace's permissions
        query = lower_query(request)
        token = query.get("token", "")
        recurse = query.get("recurse", "").lower() == "true"
        extended = query.get("includeextendedinfo", "").lower() == "true"
        wanted = {
            d.strip().removeprefix(DESCRIPTOR_PREFIX).casefold()
            for d in query.get("descriptors", "").split(",")
            if d.strip()
        }
        lists = []
        for acl_token, entries in sorted(self.org.acl.items()):
            if token and acl_token != token and not (recurse and acl_token.startswith(token + "/")):
                continue
            aces: dict[str, Any] = {}
            for who, (allow, deny) in entries.items():
                if wanted and who not in wanted:
                    continue
                descriptor = DESCRIPTOR_PREFIX + (self.org.member(who) or who)
                ace: dict[str, Any] = {"descriptor": descriptor, "allow": allow, "deny": deny}
                if extended:
                    effective_allow, effective_deny = self.org.effective(who, acl_token)
                    ace["extendedInfo"] = {
                        "effectiveAllow": effective_allow,
                        "effectiveDeny": effective_deny,
                        "inheritedAllow": effective_allow & ~allow,
                        "inheritedDeny": effective_deny & ~deny,
                    }
                aces[descriptor] = ace
            if aces or not wanted:
                lists.append({"inheritPermissions": True, "token": acl_token, "acesDictionary": aces})
        return list_response(lists)
