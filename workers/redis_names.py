"""Redis keys shared by the web process and the workers (the web process reads, workers write)."""

#: the discovered cluster inventory, as bot.inventory.Inventory.to_json wrote it
INVENTORY_KEY = "fluxops:inventory"
