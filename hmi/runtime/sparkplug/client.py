"""The edge node's paho-mqtt client, made from the ``mqtt:`` settings: credentials (the password
from the environment), TLS with the project's CA, retry delays; and a wait for a QoS 1
publication that logs rather than raises."""

from __future__ import annotations

import logging
import os
import ssl
from pathlib import Path

import paho.mqtt.client as mqtt

from hmi.model.errors import ConfigError
from hmi.model.mqtt import MqttSettings

__all__ = ["make_client", "wait_published"]

log = logging.getLogger(__name__)


def make_client(settings: MqttSettings, project_dir: Path) -> mqtt.Client:
    """A client not yet connected and without callbacks; ConfigError for a missing password
    variable or CA file."""
    s = settings
    client = mqtt.Client(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=s.client_id or f"hmi-{s.sparkplug.edge_node_id}",
        clean_session=True,
    )
    if s.username is not None:
        password = os.environ.get(s.password_env) if s.password_env else None
        if s.password_env and password is None:
            raise ConfigError(
                f"project.yaml: mqtt.password_env names {s.password_env}, which is not set "
                "in the environment; set it to the broker password"
            )
        client.username_pw_set(s.username, password)
    if s.tls:
        ca = None if s.ca is None else str(project_dir / s.ca)
        if ca is not None and not Path(ca).is_file():
            raise ConfigError(f"project.yaml: mqtt.ca: no file {ca}")
        client.tls_set(ca_certs=ca, cert_reqs=ssl.CERT_REQUIRED)
    client.reconnect_delay_set(min_delay=1, max_delay=10)
    client.max_queued_messages_set(0)
    return client


def wait_published(info: mqtt.MQTTMessageInfo, timeout: float, what: str) -> None:
    try:
        info.wait_for_publish(timeout)
    except (ValueError, RuntimeError) as exc:
        log.warning("mqtt: %s not confirmed: %s", what, exc)
