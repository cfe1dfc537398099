"""Many hosts for real: network namespaces, HAProxy, MongoDB-wire, Redis with Sentinel (see cluster.py)."""
