"""Wires a delivery worker: the invoice-service client, the outside-world clients, the actors."""

from __future__ import annotations

from dramatiq.brokers.redis import RedisBroker

from services.common.settings import Settings
from services.delivery.actors import register_delivery_actors
from services.delivery.delivery_callbacks import DeliveryCallbacks
from services.delivery.outlets import build_outlets


def start_delivery_actors(broker: RedisBroker, settings: Settings) -> DeliveryCallbacks:
    """Declare the delivery actors on the broker; returns the client to close at the end."""
    assert settings.internal_token is not None
    callbacks = DeliveryCallbacks(settings.invoice_grpc_addr, settings.internal_token)
    register_delivery_actors(broker, settings, callbacks, build_outlets(settings))
    return callbacks
