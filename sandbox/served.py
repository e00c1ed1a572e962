"""What a running sandbox serves, as its start-up banner lists it: one ``Served`` per server.

``Sandbox.served()`` (sandbox/runtime.py) lists the emulated cloud's servers, ``Stack.served()``
(sandbox/stack.py) adds fluxops' own and the fakes around them; ``fluxops sandbox up`` prints that list
(cli/banner.py) and a test asks every entry's ``probe`` while the stack runs. A new server is one more
``Served(...)`` line in one of the two lists.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Served:
    """One server of the sandbox: its name as the banner shows it, its URL, what it is for (one short line)."""

    name: str
    url: str
    note: str = ""
    #: a URL that answers 200 while the server runs ("": ``url`` itself; redis:// URLs answer PING)
    health: str = ""

    @property
    def probe(self) -> str:
        return self.health or self.url
