"""A MES on the real Mosquitto: subscribes to a test's own topic prefix, keeps every message."""

from __future__ import annotations

import json
import threading
from typing import Any

import paho.mqtt.client as mqtt

BROKER = ("127.0.0.1", 1883)


class Subscriber:
    def __init__(self, prefix: str) -> None:
        self.messages: list[dict[str, Any]] = []
        self._got = threading.Condition()
        self._ready = threading.Event()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda c, *_: c.subscribe(f"{prefix}/#", qos=1)
        self.client.on_subscribe = lambda *_: self._ready.set()
        self.client.on_message = self._on_message

    def _on_message(self, client: Any, userdata: Any, msg: Any) -> None:
        with self._got:
            self.messages.append({"topic": msg.topic, **json.loads(msg.payload)})
            self._got.notify_all()

    def __enter__(self) -> Subscriber:
        self.client.connect(*BROKER)
        self.client.loop_start()
        assert self._ready.wait(10), "no SUBACK from the broker on 127.0.0.1:1883"
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.loop_stop()
        self.client.disconnect()

    def named(self, name: str) -> list[dict[str, Any]]:
        with self._got:
            return [m for m in self.messages if m["MessageName"] == name]

    def wait_for(self, name: str, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        with self._got:
            self._got.wait_for(lambda: len([m for m in self.messages
                                            if m["MessageName"] == name]) >= count, timeout)
        return self.named(name)

    def unique(self, name: str) -> dict[str, dict[str, Any]]:
        """What a consumer that honours the message id keeps."""
        return {m["UniqueID"]: m for m in self.named(name)}
