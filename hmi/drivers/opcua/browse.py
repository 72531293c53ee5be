"""Browsing a server for tags: ``browse`` -> tree, ``format_tree`` -> text, ``tags_yaml`` -> the
``tags:`` section of ``project.yaml`` for engineers to paste.

Only Browse/BrowseNext, TranslateBrowsePathsToNodeIds and Read are used, in batches within the
server's OperationLimits, so any compliant server can be browsed.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from asyncua import Client, ua
from asyncua.client.ua_client import UaClient

from hmi.drivers.opcua.certs import Pki
from hmi.drivers.opcua.session import (
    SessionSettings,
    close_client,
    open_client,
    read_operation_limits,
)
from hmi.drivers.opcua.values import builtin_type, ns0

if TYPE_CHECKING:  # ruamel.yaml loads when tags are written (hmi browse, Browse server)
    from ruamel.yaml.comments import CommentedMap

__all__ = [
    "BrowsedNode",
    "Browser",
    "browse",
    "format_tree",
    "tag_name",
    "taggable",
    "tags_yaml",
    "tags_yaml_of",
]

_HIERARCHICAL = ns0(ua.ObjectIds.HierarchicalReferences)
_HAS_PROPERTY = ns0(ua.ObjectIds.HasProperty)
_SERVER = ns0(ua.ObjectIds.Server)
_A = ua.AttributeIds
_VARIABLE_ATTRIBUTES = (
    _A.DataType,
    _A.ValueRank,
    _A.AccessLevel,
    _A.UserAccessLevel,
    _A.Description,
)
_DATATYPES = {
    "Boolean": "bool",
    **dict.fromkeys(
        ("SByte", "Byte", "Int16", "UInt16", "Int32", "UInt32", "Int64", "UInt64"), "int"
    ),
    "Float": "float",
    "Double": "float",
    "String": "str",
}


@dataclass(slots=True)
class BrowsedNode:
    """One node of the address space as ``browse`` found it."""

    browse_name: str
    node_id: str
    node_class: str
    data_type: str = ""  # the built-in type it travels as, e.g. "Double"
    scalar: bool = True
    access: str = ""  # "r", "w", "rw" or "-" for variables (this user's access)
    description: str = ""
    units: str = ""
    eu_range: tuple[float, float] | None = None
    children: list[BrowsedNode] = field(default_factory=list)

    def walk(self, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], BrowsedNode]]:
        """Every node below this one with the BrowseNames leading to it."""
        for child in self.children:
            here = (*path, child.browse_name)
            yield here, child
            yield from child.walk(here)


def _chunks(items: Sequence[Any], size: int) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), max(1, size)):
        yield items[start : start + max(1, size)]


async def _browse_level(
    uaclient: UaClient, nodes: Sequence[ua.NodeId], per_call: int, properties: bool
) -> list[list[ua.ReferenceDescription]]:
    found: list[list[ua.ReferenceDescription]] = []
    for chunk in _chunks(nodes, per_call):
        params = ua.BrowseParameters()
        params.RequestedMaxReferencesPerNode = 0
        for node in chunk:
            d = ua.BrowseDescription()
            d.NodeId = node
            d.BrowseDirection = ua.BrowseDirection.Forward
            d.ReferenceTypeId = _HIERARCHICAL
            d.IncludeSubtypes = True
            d.NodeClassMask = ua.NodeClass.Object | ua.NodeClass.Variable
            d.ResultMask = ua.BrowseResultMask.All
            params.NodesToBrowse.append(d)
        for result in await uaclient.browse(params):
            refs = list(result.References or [])
            point = result.ContinuationPoint
            while point:
                more = ua.BrowseNextParameters()
                more.ContinuationPoints = [point]
                (next_result,) = await uaclient.browse_next(more)
                refs += next_result.References or []
                point = next_result.ContinuationPoint
            if not properties:
                refs = [r for r in refs if r.ReferenceTypeId != _HAS_PROPERTY]
            found.append(refs)
    return found


async def _read(
    uaclient: UaClient, pairs: Sequence[tuple[ua.NodeId, ua.AttributeIds]], per_call: int
) -> list[Any]:
    """The values of (node, attribute) pairs; None where the server says Bad."""
    values: list[Any] = []
    for chunk in _chunks(pairs, per_call):
        params = ua.ReadParameters()
        params.NodesToRead = [ua.ReadValueId(NodeId=n, AttributeId=a) for n, a in chunk]
        for dv in await uaclient.read(params):
            good = dv.StatusCode is None or dv.StatusCode.is_good()
            values.append(dv.Value.Value if good and dv.Value is not None else None)
    return values


async def _properties(
    uaclient: UaClient, variables: Sequence[BrowsedNode], ids: Sequence[ua.NodeId], per_call: int
) -> None:
    """Fill units and range from the EngineeringUnits and EURange properties, where present."""
    paths = []
    for node_id in ids:
        for name in ("EngineeringUnits", "EURange"):
            element = ua.RelativePathElement()
            element.ReferenceTypeId = _HAS_PROPERTY
            element.IsInverse = False  # type: ignore[assignment]  # the default is True
            element.IncludeSubtypes = False  # type: ignore[assignment]
            element.TargetName = ua.QualifiedName(name, 0)
            path = ua.BrowsePath()
            path.StartingNode = node_id
            path.RelativePath = ua.RelativePath(Elements=[element])
            paths.append(path)
    targets: list[ua.NodeId | None] = []
    for chunk in _chunks(paths, per_call):
        for result in await uaclient.translate_browsepaths_to_nodeids(list(chunk)):
            target = result.Targets[0].TargetId if result.Targets else None
            if (
                target is None
                or getattr(target, "ServerIndex", None)
                or not result.StatusCode.is_good()
            ):
                targets.append(None)  # absent, or in another server
            else:
                targets.append(ua.NodeId(target.Identifier, target.NamespaceIndex))
    wanted = [(t, _A.Value) for t in targets if t is not None]
    values = iter(await _read(uaclient, wanted, per_call))
    for index, target in enumerate(targets):
        if target is None:
            continue
        value = next(values)
        node = variables[index // 2]
        if index % 2 == 0 and isinstance(value, ua.EUInformation):
            node.units = value.DisplayName.Text or ""
        elif index % 2 == 1 and isinstance(value, ua.Range):
            node.eu_range = (float(value.Low), float(value.High))


class Browser:
    """One session for many reads of a server's address space (the designer's Browse server
    reads a folder each time one is opened): ``Browser.open`` connects and reads the server's
    OperationLimits once, ``tree`` reads, ``close`` ends the session."""

    def __init__(self, client: Client, per_browse: int, per_read: int) -> None:
        self.client = client
        self.per_browse = per_browse
        self.per_read = per_read

    @classmethod
    async def open(cls, settings: SessionSettings, pki: Pki | None = None) -> Browser:
        client = await open_client(settings, pki)
        try:
            limits = await read_operation_limits(client)
        except BaseException:
            await close_client(client)
            raise
        per_browse = min(limits.max_nodes_per_browse or 500, 500)
        return cls(client, per_browse, min(limits.max_nodes_per_read or 1000, 1000))

    async def close(self) -> None:
        await close_client(self.client)

    async def tree(
        self, root: str = "i=85", *, depth: int = 3, properties: bool = False
    ) -> BrowsedNode:
        """The address space below ``root``, ``depth`` levels deep (see ``browse``)."""
        uaclient, per_read = self.client.uaclient, self.per_read
        root_id = ua.NodeId.from_string(root)
        (name, node_class) = await _read(
            uaclient, [(root_id, _A.BrowseName), (root_id, _A.NodeClass)], per_read
        )
        tree = BrowsedNode(
            name.Name if isinstance(name, ua.QualifiedName) else root,
            root_id.to_string(),
            ua.NodeClass(node_class).name if node_class is not None else "?",
        )
        level: list[tuple[ua.NodeId, BrowsedNode]] = [(root_id, tree)]
        seen = {root_id}
        variables: list[tuple[ua.NodeId, BrowsedNode]] = []
        for _ in range(depth):
            if not level:
                break
            nodes = [n for n, _ in level]
            found = await _browse_level(uaclient, nodes, self.per_browse, properties)
            next_level = []
            for (_, parent), refs in zip(level, found, strict=True):
                for ref in refs:
                    node_id = ref.NodeId
                    if node_id in seen or (node_id == _SERVER and root_id != _SERVER):
                        continue
                    seen.add(node_id)
                    child = BrowsedNode(
                        ref.BrowseName.Name, node_id.to_string(), ref.NodeClass.name
                    )
                    parent.children.append(child)
                    next_level.append((node_id, child))
                    if ref.NodeClass == ua.NodeClass.Variable:
                        variables.append((node_id, child))
            level = next_level
        await _describe_variables(uaclient, variables, per_read)
        return tree


async def browse(
    endpoint: str,
    *,
    depth: int = 3,
    root: str = "i=85",
    security: str = "None",
    policy: str = "Basic256Sha256",
    username: str | None = None,
    password: str | None = None,
    pki: Pki | None = None,
    timeout_s: float = 4.0,
    properties: bool = False,
) -> BrowsedNode:
    """The address space below ``root`` (default: Objects), ``depth`` levels deep, Objects and
    Variables only, in a session of its own. The standard Server object is skipped unless it
    is the root; properties (HasProperty) are skipped unless ``properties``."""
    settings = SessionSettings(endpoint, security, policy, username, password, timeout_s)
    browser = await Browser.open(settings, pki)
    try:
        return await browser.tree(root, depth=depth, properties=properties)
    finally:
        await browser.close()


async def _describe_variables(
    uaclient: UaClient, variables: list[tuple[ua.NodeId, BrowsedNode]], per_read: int
) -> None:
    pairs = [(n, a) for n, _ in variables for a in _VARIABLE_ATTRIBUTES]
    values = await _read(uaclient, pairs, per_read)
    cache: dict[ua.NodeId, ua.VariantType | None] = {}
    width = len(_VARIABLE_ATTRIBUTES)
    for index, (_, node) in enumerate(variables):
        datatype, rank, access, user_access, description = values[
            index * width : (index + 1) * width
        ]
        if isinstance(datatype, ua.NodeId):
            vtype = await builtin_type(uaclient, datatype, cache)
            node.data_type = vtype.name if vtype is not None else datatype.to_string()
        node.scalar = rank in (None, -1)
        if isinstance(access, int):
            if isinstance(user_access, int):
                access &= user_access
            text = ("r" if access & 1 else "") + ("w" if access & 2 else "")
            node.access = text or "-"
        if isinstance(description, ua.LocalizedText) and description.Text != node.browse_name:
            node.description = description.Text or ""
    await _properties(uaclient, [n for _, n in variables], [i for i, _ in variables], per_read)


def format_tree(tree: BrowsedNode, indent: str = "  ") -> str:
    """The tree as indented lines: BrowseName, NodeId, NodeClass, DataType, access, units."""

    def line(node: BrowsedNode, level: int) -> str:
        parts = [f"{indent * level}{node.browse_name}", node.node_id, node.node_class]
        if node.node_class == "Variable":
            parts.append(node.data_type + ("" if node.scalar else "[]"))
            parts.append(node.access)
            if node.units or node.eu_range:
                low_high = f" {node.eu_range[0]:g}..{node.eu_range[1]:g}" if node.eu_range else ""
                parts.append(f"[{node.units}{low_high}]".replace("[ ", "["))
        return "  ".join(p for p in parts if p)

    lines = [line(tree, 0)]

    def down(node: BrowsedNode, level: int) -> None:
        for child in node.children:
            lines.append(line(child, level))
            down(child, level + 1)

    down(tree, 1)
    return "\n".join(lines)


def tag_name(path: Sequence[str]) -> str:
    """The tag name ``tags_yaml`` gives a node: its BrowseNames below the browsed root, joined
    by dots, each cleaned to letters, digits, ``_`` and ``-``."""
    name = ".".join(re.sub(r"[^A-Za-z0-9_\-]+", "_", part).strip("_") or "_" for part in path)
    return name if re.match(r"[A-Za-z_]", name) else f"_{name}"


def _write_policy(node: BrowsedNode, datatype: str) -> CommentedMap:
    from ruamel.yaml.comments import CommentedMap

    write = CommentedMap()
    if datatype not in ("int", "float"):
        return write
    if node.eu_range and node.eu_range[0] < node.eu_range[1]:
        low, high = node.eu_range
        write["min"] = int(low) if datatype == "int" and low.is_integer() else low
        write["max"] = int(high) if datatype == "int" and high.is_integer() else high
        write.fa.set_flow_style()
        return write
    write.fa.set_flow_style()
    return write


def taggable(node: BrowsedNode) -> bool:
    """A readable scalar Variable of a type a tag can hold."""
    return (
        node.node_class == "Variable"
        and node.data_type in _DATATYPES
        and node.scalar
        and "r" in node.access  # write-only (or no access): a tag shows a value it can read
    )


def tags_yaml(tree: BrowsedNode, connection: str) -> str:
    """``tags:`` for every readable scalar Variable of a type a tag can hold, named by its
    BrowseName path below the browsed root, addressed through ``connection``. ``write:`` only
    where this user may write: a numeric one limited to the EURange where the server has one,
    else with a comment asking for limits (a setpoint without them accepts anything)."""
    named: dict[str, BrowsedNode] = {}
    for path, node in tree.walk():
        if not taggable(node):
            continue
        name = base = tag_name(path)
        count = 1
        while name in named:
            count += 1
            name = f"{base}_{count}"
        named[name] = node
    return tags_yaml_of(list(named.items()), connection)


def tags_yaml_of(named: Sequence[tuple[str, BrowsedNode]], connection: str) -> str:
    """``tags:`` for the given (name, Variable) pairs, as ``tags_yaml`` writes them (the
    designer's browse dialog, where the engineer names them)."""
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap, CommentedSeq

    tags: dict[str, CommentedMap] = {}
    for name, node in named:
        datatype = _DATATYPES[node.data_type]
        tag = CommentedMap(address=f"opcua://{connection}/{node.node_id}", datatype=datatype)
        if node.description:
            tag["description"] = node.description
        if node.units:
            tag["units"] = node.units
        if node.eu_range and node.eu_range[0] < node.eu_range[1]:
            tag["range"] = CommentedSeq(node.eu_range)
            tag["range"].fa.set_flow_style()
        if "w" in node.access:
            tag["write"] = write = _write_policy(node, datatype)
            if datatype in ("int", "float") and not write:
                tag.yaml_add_eol_comment(
                    "the server has no EURange: set write min and max", "write"
                )
        tags[name] = tag
    yaml = YAML()
    yaml.width = 200
    out = io.StringIO()
    yaml.dump({"tags": tags}, out)
    return out.getvalue()
