"""synwall's controller: synwalld (daemon) and synwallctl (CLI), and a typed gRPC client.

    from synwall.client import Client
    with Client(socket="/run/synwall/api.sock") as c:
        print(c.counters().total["syncache.added"])
"""

__version__ = "0.1.0"
