"""The sync engine: protocol v1, free of Flask; the server, the client and benchmarks use it."""
