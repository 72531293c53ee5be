"""The mqtt: section of project.yaml: what is refused, and how it says so."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from hmi.model.mqtt import MqttSettings, topic_id_problem

SPARKPLUG = {"group_id": "Riverside", "edge_node_id": "HMI-01"}


def test_defaults_and_parts_of_the_broker_url() -> None:
    s = MqttSettings.model_validate(
        {"broker": "mqtts://broker.example.org", "sparkplug": SPARKPLUG}
    )
    assert (s.tls, s.host, s.port) == (True, "broker.example.org", 8883)
    assert s.sparkplug.publishes("anything") and not s.commands.allows("anything")
    plain = MqttSettings.model_validate({"broker": "mqtt://10.0.0.5", "sparkplug": SPARKPLUG})
    assert (plain.tls, plain.port) == (False, 1883)


@pytest.mark.parametrize(
    ("field", "value", "says"),
    [
        ("group_id", "River/side", "'/'"),
        ("edge_node_id", "HMI+01", "'+'"),
        ("edge_node_id", "HMI#", "'#'"),
        ("group_id", "", "is empty"),
    ],
)
def test_topic_levels_refuse_wildcards_and_separators(field: str, value: str, says: str) -> None:
    with pytest.raises(ValidationError) as info:
        MqttSettings.model_validate(
            {"broker": "mqtt://h", "sparkplug": {**SPARKPLUG, field: value}}
        )
    assert says in str(info.value) and field in str(info.value)


@pytest.mark.parametrize(
    ("broker", "says"),
    [
        ("tcp://h:1883", "not a broker URL"),
        ("mqtt://", "not a broker URL"),
        ("mqtt://h:99999", "port"),
    ],
)
def test_a_bad_broker_url_says_what_to_write(broker: str, says: str) -> None:
    with pytest.raises(ValidationError, match=says):
        MqttSettings.model_validate({"broker": broker, "sparkplug": SPARKPLUG})


def test_a_ca_needs_tls() -> None:
    with pytest.raises(ValidationError, match="use mqtts://"):
        MqttSettings.model_validate({"broker": "mqtt://h", "ca": "ca.pem", "sparkplug": SPARKPLUG})


def test_topic_id_problem() -> None:
    assert topic_id_problem("plant_ua") is None
    assert "control characters" in (topic_id_problem("a\nb") or "")
