"""The Zenodo side: where deposits go, the transport bound to its origin, one client per API, and the local double."""
