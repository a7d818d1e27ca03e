"""The kernel's IOPub channel, connected again after it refuses an oversized message.

The grader's kernel clients refuse any single message over a size (ZMQ_MAXMSGSIZE, see
notebook._Manager): one huge print never sits whole in the grader's memory. ZMQ refuses it by
dropping the connection that carried it, and does not connect again by itself. Without this, every
later cell's outputs and errors were lost, and each cell waited nbclient's IOPub timeout (4 s) for
an "idle" that never came. Messages the kernel sends while the connection is down are lost: those
of the oversized output's own cell, already past the output limit.
"""

from __future__ import annotations

import contextlib
import time
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel

MAX_RECONNECTS = 16  # past these the channel stays down: only a kernel that forges messages gets there


class ReconnectingIOPub(AsyncZMQSocketChannel):
    """An IOPub channel that watches its socket for a dropped connection and connects it again."""

    url: str | None = None
    reconnects = 0
    _monitor: zmq.asyncio.Socket | None = None

    def watch(self, url: str) -> None:
        assert self.socket is not None
        self.url = url
        self._monitor = self.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)

    async def get_msg(self, timeout: float | None = None) -> dict[str, Any]:  # type: ignore[override]
        assert self.socket is not None
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            poller = zmq.asyncio.Poller()
            poller.register(self.socket, zmq.POLLIN)
            if self._monitor is not None:
                poller.register(self._monitor, zmq.POLLIN)
            left = None if deadline is None else max(0, int((deadline - time.monotonic()) * 1000))
            ready = dict(await poller.poll(left))
            if self.socket in ready:  # what came before the drop first
                return await self._recv()
            if self._monitor is not None and self._monitor in ready:
                await self._monitor.recv_multipart()
                self._connect_again()
                continue
            raise Empty

    def _connect_again(self) -> None:
        assert self.socket is not None and self.url is not None
        self.reconnects += 1
        with contextlib.suppress(zmq.ZMQError):  # (ZMQ may have forgotten the endpoint already)
            self.socket.disconnect(self.url)
        self.socket.connect(self.url)
        if self.reconnects >= MAX_RECONNECTS:
            self._stop_watching()

    def _stop_watching(self) -> None:
        if self._monitor is None:
            return
        with contextlib.suppress(zmq.ZMQError):
            if self.socket is not None and not self.socket.closed:
                self.socket.disable_monitor()
        self._monitor.close(linger=0)
        self._monitor = None

    def close(self) -> None:
        self._stop_watching()
        super().close()
