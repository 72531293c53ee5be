"""Runtime services: tag broker, driver pool, command service. Only qt_bridge.py imports Qt."""
