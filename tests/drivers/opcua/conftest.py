"""Fixtures of the OPC UA driver tests: the plant server (see ``opcua_plant``) and trust stores."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from hmi.drivers.opcua.certs import Pki
from hmi.model.address import parse_address
from tests.drivers.opcua.opcua_plant import SERVER_URI, PlantServer, free_port, make_certificate


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never touch the real user data folder."""
    monkeypatch.setenv("HMI_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture(scope="session")
def server_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("server-pki"), SERVER_URI, "test-plant")


@pytest.fixture(scope="session")
def plant(server_certificate: tuple[Path, Path]) -> Iterator[PlantServer]:
    server = PlantServer(free_port(), server_certificate)
    yield server
    server.close()


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A trust store that trusts nothing yet."""
    return Pki(tmp_path / "pki")


@pytest.fixture
def trusting_pki(pki: Pki, server_certificate: tuple[Path, Path]) -> Pki:
    """A trust store that trusts the plant server."""
    pki.trusted.mkdir(parents=True)
    shutil.copy(server_certificate[0], pki.trusted / "plant.der")
    return pki


@pytest.fixture
def addr(plant: PlantServer):  # type: ignore[no-untyped-def]
    """``addr("Level")`` -> the TagAddress of a plant variable on connection ``plant``."""
    return lambda name: parse_address(f"opcua://plant/{plant.node_id(name)}")
