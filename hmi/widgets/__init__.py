"""Screen widgets: one per file, each bound to tags through the bridge."""
