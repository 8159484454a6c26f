"""The jobs process: APScheduler triggers; leases in the database make many processes safe."""
