"""Persistent stores (audit, historian, alarms, users). No Qt."""
