import socket
from decimal import Decimal

import pytest

from custody import services

from ..conftest import drive_manifest

# The custody tests' genealogies, for the reports and verification pages over HTTP.
from ..custody.conftest import delivered, diamond  # noqa: F401 (fixtures)
from .webhook_network import ConnectGuard, Resolver


@pytest.fixture
def two_lots(chain, pickup):
    other = services.register_pickup(
        actor=chain.actor(chain.source),
        facility=chain.data_center,
        material="hdd",
        mass_kg=Decimal("5"),
        assets=drive_manifest(2),
    )
    return pickup, other


@pytest.fixture
def resolver(monkeypatch):
    """Names resolve from ``resolver.table`` (webhook tests)."""
    fake = Resolver(socket.getaddrinfo)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


@pytest.fixture
def connections(monkeypatch):
    """Every connection attempt is recorded; only those to the test's own loopback ports
    (``connections.allowed``) go through (webhook tests)."""
    guard = ConnectGuard(socket.socket.connect)
    monkeypatch.setattr(socket.socket, "connect", guard.connect)
    return guard
