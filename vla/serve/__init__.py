"""Remote policy serving: a websocket + msgpack server (``vla-serve``) and its client.

``protocol`` is the wire format, ``server`` the asyncio server, ``client`` the ``RemotePolicy``
(Policy API) and ``action_queue`` the prefetching queue for action chunks;
``openpi_wire`` and ``openpi_server`` speak openpi's wire format (``protocol=openpi``).
"""

from vla.serve.action_queue import ActionQueue
from vla.serve.client import RemotePolicy, RemotePolicyError
from vla.serve.protocol import ProtocolError, pack, unpack
from vla.serve.server import PolicyServer

__all__ = [
    "ActionQueue",
    "PolicyServer",
    "ProtocolError",
    "RemotePolicy",
    "RemotePolicyError",
    "pack",
    "unpack",
]
