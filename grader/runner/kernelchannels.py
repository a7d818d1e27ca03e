"""The kernel's channels, watched for the connection ZMQ drops when it refuses an oversized message.

The grader's kernel clients refuse any single message over a size (ZMQ_MAXMSGSIZE, see
notebook._Manager): one huge print never sits whole in the grader's memory. ZMQ refuses it by
dropping the connection that carried it, and does not connect again by itself.

- IOPub (outputs) connects again: without that, every later cell's outputs and errors were lost,
  and each cell waited nbclient's IOPub timeout (4 s) for an "idle" that never came. What the
  kernel sends while the connection is down is lost: the oversized output's own cell, already
  past the output limit.
- Shell (replies) raises `ReplyDropped`: the reply the cell waits for is gone (an error whose
  message is that large), and the cell would otherwise be reported as hanging, at its time limit.
"""

from __future__ import annotations

import contextlib
import time
from queue import Empty
from typing import Any

import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel

MAX_RECONNECTS = 16  # past these IOPub stays down: only a kernel that forges messages gets there


class ReplyDropped(Exception):
    """The shell connection was dropped: the kernel sent a reply over the size limit, or died."""


class _Watched(AsyncZMQSocketChannel):
    """A channel whose socket's dropped connections are seen as they happen (a ZMQ socket monitor)."""

    url: str | None = None
    _monitor: zmq.asyncio.Socket | None = None

    def watch(self, url: str) -> None:
        assert self.socket is not None
        self.url = url
        self._monitor = self.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)

    def dropped(self) -> None:
        raise NotImplementedError

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
                self.dropped()
                continue
            raise Empty

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


class ReconnectingIOPub(_Watched):
    """IOPub, connected again after each drop (at most MAX_RECONNECTS times)."""

    reconnects = 0

    def dropped(self) -> None:
        assert self.socket is not None and self.url is not None
        self.reconnects += 1
        with contextlib.suppress(zmq.ZMQError):  # (ZMQ may have forgotten the endpoint already)
            self.socket.disconnect(self.url)
        self.socket.connect(self.url)
        if self.reconnects >= MAX_RECONNECTS:
            self._stop_watching()


class WatchedShell(_Watched):
    """Shell, which says when its connection dropped instead of waiting for a reply that will not come."""

    def dropped(self) -> None:
        self._stop_watching()
        raise ReplyDropped("the kernel's shell connection was dropped")
