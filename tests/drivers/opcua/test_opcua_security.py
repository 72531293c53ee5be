"""Signed and encrypted sessions, the trust store, and user identities, against a real server
with its own certificate and a user manager."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from typing import Any

import pytest

from hmi.drivers.base import ConnectionState
from hmi.drivers.opcua import OpcUaDriver, list_certificates, trust_certificate
from hmi.drivers.opcua.certs import Pki, ensure_own_certificate
from hmi.model.errors import WriteFailed
from hmi.model.project import OpcUaConnection
from tests.drivers.opcua.opcua_plant import PlantServer, Sink

ENV = {"PLANT_PW": "secret", "WRONG_PW": "guess"}


def run(coro: Coroutine[Any, Any, Any], timeout: float = 30) -> Any:
    return asyncio.run(asyncio.wait_for(coro, timeout))


def connection(plant: PlantServer, **fields: Any) -> OpcUaConnection:
    base: dict[str, Any] = {
        "driver": "opcua",
        "endpoint": plant.endpoint,
        "keepalive_s": 0.5,
        "publishing_interval_ms": 50,
        "timeout_s": 2,
        "reconnect_min_s": 0.1,
        "reconnect_max_s": 0.3,
    }
    return OpcUaConnection.model_validate(base | fields)


async def serve_one(driver: OpcUaDriver, sink: Sink, address, until) -> None:  # type: ignore[no-untyped-def]
    driver.subscribe([address])
    await driver.start()
    await until(lambda: address in sink.latest, timeout=10, what="a value")


@pytest.mark.parametrize(
    ("security", "policy"),
    [
        ("Sign", "Basic256Sha256"),
        ("SignAndEncrypt", "Basic256Sha256"),
        ("SignAndEncrypt", "Aes128_Sha256_RsaOaep"),
    ],
)
def test_secure_sessions_with_a_trusted_server(plant, trusting_pki, addr, until, security, policy):
    conn = connection(plant, security=security, policy=policy)

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context, pki=trusting_pki)
        try:
            await serve_one(driver, sink, addr("Level"), until)
            assert sink.value(addr("Level")) == 1.5
            assert driver.health.state is ConnectionState.CONNECTED
            assert f"{security} {policy}" in driver.health.detail
            back = await driver.write(addr("Level"), 2.0)
            assert back is not None and back.value == 2.0
        finally:
            await driver.stop()
            plant.write("Level", 1.5)

    run(main())
    own = ensure_own_certificate(trusting_pki)  # made on first use, in the given folder
    assert own.application_uri.startswith("urn:") and trusting_pki.own_key.is_file()


def test_an_untrusted_server_is_refused_then_accepted_once_trusted(plant, pki, addr, until):
    conn = connection(plant, security="SignAndEncrypt")

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context, pki=pki)
        driver.subscribe([addr("Level")])
        await driver.start()
        try:
            await until(
                lambda: driver.health.state is ConnectionState.FAILED, timeout=10, what="FAILED"
            )
            detail = driver.health.detail
            assert "not trusted" in detail and "hmi certs trust" in detail
            thumbprint = re.search(r"hmi certs trust ([0-9A-F]{40})", detail)
            assert thumbprint is not None
            rejected = [c for c in list_certificates(pki) if c.status == "rejected"]
            assert [c.thumbprint for c in rejected] == [thumbprint[1]]
            assert addr("Level") not in sink.latest

            trust_certificate(thumbprint[1], pki)  # what `hmi certs trust` does
            await until(lambda: sink.value(addr("Level")) == 1.5, timeout=10, what="trusted")
            assert driver.health.state is ConnectionState.CONNECTED
            assert [c.status for c in list_certificates(pki) if c.status != "own"] == ["trusted"]
        finally:
            await driver.stop()

    run(main())


def test_username_and_password_from_the_environment(plant, trusting_pki, addr, until):
    conn = connection(
        plant, security="SignAndEncrypt", username="operator", password_env="PLANT_PW"
    )

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context, pki=trusting_pki, environ=ENV)
        try:
            await serve_one(driver, sink, addr("Count"), until)
            assert "user operator" in driver.health.detail
            assert (await driver.write(addr("Count"), 9)).value == 9  # type: ignore[union-attr]
        finally:
            await driver.stop()
            plant.write("Count", 5)

    run(main())


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"username": "operator", "password_env": "WRONG_PW"}, "BadUserAccessDenied"),
        ({"username": "operator", "password_env": "UNSET_PW"}, "UNSET_PW is not set"),
        ({"security": "Sign", "policy": "Aes256_Sha256_RsaPss"}, "offers no Aes256_Sha256_RsaPss"),
    ],
)
def test_refused_identities_and_endpoints_fail_with_a_reason(
    plant, trusting_pki, until, fields, expected
):
    conn = connection(plant, **fields)

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context, pki=trusting_pki, environ=ENV)
        await driver.start()
        try:
            await until(
                lambda: driver.health.state is ConnectionState.FAILED, timeout=10, what="FAILED"
            )
            assert expected in driver.health.detail
        finally:
            await driver.stop()

    run(main())


def test_a_user_without_write_permission_gets_the_servers_status(plant, addr, until):
    conn = connection(plant, username="viewer", password_env="PLANT_PW")

    async def main() -> None:
        sink = Sink()
        driver = OpcUaDriver("opcua://plant", conn, sink.context, environ=ENV)
        try:
            await serve_one(driver, sink, addr("Level"), until)
            with pytest.raises(WriteFailed, match=r"^BadUserAccessDenied"):
                await driver.write(addr("Level"), 2.0)
        finally:
            await driver.stop()
        assert plant.read("Level") == 1.5

    run(main())


def test_the_own_certificate_is_made_once_in_the_data_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("HMI_DATA_DIR", str(tmp_path / "station"))
    first = ensure_own_certificate()
    assert first.cert_path == tmp_path / "station" / "pki" / "own" / "certs" / "hmi.der"
    again = ensure_own_certificate(Pki.default())
    assert again.der == first.der and again.application_uri == first.application_uri
