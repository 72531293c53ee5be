"""Sparkplug B 3.0 edge node: the station's tags on an MQTT broker (see docs/mqtt.md)."""

from hmi.runtime.sparkplug.node import EdgeNode, NodeStatus

__all__ = ["EdgeNode", "NodeStatus"]
