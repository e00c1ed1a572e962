"""Redis keys shared by the web process and the workers (the web process reads, workers write)."""

#: the discovered cluster inventory, as bot.inventory.Inventory.to_json wrote it
INVENTORY_KEY = "fluxops:inventory"
#: every Flux configuration's state, as bot.fleet_snapshot.FleetSnapshot.to_json wrote it (the status page)
FLEET_SNAPSHOT_KEY = "fluxops:fleet:snapshot"
#: one-time sign-in links of the status page: ``{prefix}{token digest}`` -> the identity it signs in
SIGNIN_PREFIX = "fluxops:web:signin:"
