"""``browse`` a real server: the printed tree, and tag YAML the project loader accepts."""

from __future__ import annotations

import asyncio
import io

from asyncua import ua
from ruamel.yaml import YAML

from hmi.drivers.opcua import browse, format_tree, tags_yaml
from hmi.drivers.opcua.browse import Browser
from hmi.drivers.opcua.session import SessionSettings
from hmi.model.project import ProjectFile
from hmi.model.tags import DataType, TagConfig


async def _add_write_only(plant) -> None:  # type: ignore[no-untyped-def]
    parent = plant.server.get_node(f"ns={plant.ns};s=Plant")
    node = await parent.add_variable(ua.NodeId("Plant.Secret", plant.ns), "Secret", 0.0)
    for attribute in (ua.AttributeIds.AccessLevel, ua.AttributeIds.UserAccessLevel):
        level = ua.DataValue(ua.Variant(ua.AccessLevel.CurrentWrite.mask, ua.VariantType.Byte))
        await node.write_attribute(attribute, level)


def test_browse_prints_a_tree_and_emits_tags_the_project_accepts(plant):
    plant.call(_add_write_only(plant))
    try:
        tree = asyncio.run(asyncio.wait_for(browse(plant.endpoint, depth=3), 20))
    finally:
        plant.call(plant.server.delete_nodes([plant.server.get_node(plant.node_id("Secret"))]))
    text = format_tree(tree)
    lines = text.splitlines()
    assert lines[0].startswith("Objects  i=85  Object")
    assert "  Plant  ns=2;s=Plant  Object" in lines
    assert "    Level  ns=2;s=Plant.Level  Variable  Double  rw  [m 0..10]" in lines
    assert "    Total  ns=2;s=Plant.Total  Variable  UInt32  r" in lines
    assert "      V7  ns=2;s=Plant.Many.V7  Variable  Double  rw" not in lines  # not writable
    assert "      V7  ns=2;s=Plant.Many.V7  Variable  Double  r" in lines
    assert "    Secret  ns=2;s=Plant.Secret  Variable  Double  w" in lines  # shown, not a tag
    assert not any("Server  i=2253" in line for line in lines)
    assert not any("EURange" in line for line in lines)  # properties are not tags

    text = tags_yaml(tree, "plant")
    tags = YAML(typ="safe").load(io.StringIO(text))["tags"]
    level = TagConfig.model_validate(tags["Plant.Level"])
    assert str(level.address) == "opcua://plant/ns=2;s=Plant.Level"
    assert (level.units, level.range, level.datatype) == ("m", (0.0, 10.0), DataType.FLOAT)
    assert level.writable and (level.write.min, level.write.max) == (0.0, 10.0)  # EURange
    assert "Plant.Secret" not in tags  # write-only: nothing to show
    count = TagConfig.model_validate(tags["Plant.Count"])
    assert count.writable and count.write.min is None  # no EURange on the server: asked for
    assert "Plant.Count:\n" in text and "write: {}  # the server has no EURange" in text
    total = TagConfig.model_validate(tags["Plant.Total"])
    assert (total.datatype, total.writable) == (DataType.INT, False)
    assert TagConfig.model_validate(tags["Plant.Running"]).datatype is DataType.BOOL
    assert TagConfig.model_validate(tags["Plant.Name"]).datatype is DataType.STR
    assert "Plant.Stamp" not in tags  # a DateTime is not a tag type
    assert len([n for n in tags if n.startswith("Plant.Many.")]) == 40

    project = ProjectFile.model_validate(
        {
            "project": {"name": "browsed", "start_screen": "main"},
            "connections": {"plant": {"driver": "opcua", "endpoint": plant.endpoint}},
            "tags": tags,
            "screens": ["main.yaml"],
        }
    )
    assert project.tags["Plant.Level"].name == "Plant.Level"


def test_browse_over_a_secure_channel_from_a_given_node(plant, trusting_pki):
    tree = asyncio.run(
        asyncio.wait_for(
            browse(
                plant.endpoint,
                depth=1,
                root="ns=2;s=Plant.Many",
                security="SignAndEncrypt",
                pki=trusting_pki,
                properties=True,
            ),
            20,
        )
    )
    assert tree.browse_name == "Many" and len(tree.children) == 40
    assert tree.children[0].data_type == "Double"


def test_a_browser_reads_folder_after_folder_in_one_session(plant):
    """``Browser`` (the designer's Browse server) keeps one session for its reads: the server
    sees one connection and one session while folders are read one by one, none after close."""
    iserver = plant.server.iserver

    async def run() -> list[tuple[int, int, list[str]]]:
        seen = []
        browser = await Browser.open(SessionSettings(plant.endpoint))
        try:
            for root in ("i=85", "ns=2;s=Plant", "ns=2;s=Plant.Many"):
                tree = await browser.tree(root, depth=1)
                seen.append((len(iserver.asyncio_transports), len(iserver._external_sessions),
                             [c.browse_name for c in tree.children]))  # fmt: skip
        finally:
            await browser.close()
        await asyncio.sleep(0.2)  # the server drops the connection it was told of
        seen.append((len(iserver.asyncio_transports), len(iserver._external_sessions), []))
        return seen

    before = (len(iserver.asyncio_transports), len(iserver._external_sessions))
    seen = asyncio.run(asyncio.wait_for(run(), 20))
    assert [s[:2] for s in seen[:3]] == [(before[0] + 1, before[1] + 1)] * 3
    assert "Plant" in seen[0][2] and "Level" in seen[1][2] and "V7" in seen[2][2]
    assert seen[3][:2] == before
