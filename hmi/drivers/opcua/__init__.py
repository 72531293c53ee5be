"""OPC UA client driver: subscriptions, writes with read-back, certificates, browsing.

``opcua_driver`` is the factory the registry takes for the ``opcua`` scheme. The certificate
functions back ``hmi certs ...``; ``browse``/``print_tree``/``tags_yaml`` back ``hmi browse``
(and, with ``tags_yaml_of``, the designer's Browse server dialog).
"""

from hmi.drivers.opcua.browse import (
    BrowsedNode,
    browse,
    format_tree,
    tag_name,
    taggable,
    tags_yaml,
    tags_yaml_of,
)
from hmi.drivers.opcua.certs import (
    CertificateRefused,
    CertInfo,
    Pki,
    describe_certificate,
    list_certificates,
    own_certificate_info,
    reject_certificate,
    trust_certificate,
)
from hmi.drivers.opcua.driver import OpcUaDriver, opcua_driver

__all__ = [
    "BrowsedNode",
    "CertInfo",
    "CertificateRefused",
    "OpcUaDriver",
    "Pki",
    "browse",
    "describe_certificate",
    "format_tree",
    "list_certificates",
    "opcua_driver",
    "own_certificate_info",
    "reject_certificate",
    "tag_name",
    "taggable",
    "tags_yaml",
    "tags_yaml_of",
    "trust_certificate",
]
