"""A small JSON-RPC client over HTTP (urllib, no dependencies)."""

import json
import urllib.request


class RpcError(Exception):
    pass


class Rpc:
    def __init__(self, url: str, timeout: float = 30.0):
        self.url = url
        self.timeout = timeout
        self._id = 0

    def call(self, method: str, *params):
        self._id += 1
        body = json.dumps({"jsonrpc": "2.0", "id": self._id, "method": method, "params": list(params)}).encode()
        request = urllib.request.Request(self.url, data=body, headers={"content-type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                reply = json.loads(response.read())
        except (OSError, ValueError) as err:
            raise RpcError(f"{method}: {err}") from err
        if not isinstance(reply, dict):
            raise RpcError(f"{method}: the reply is not a JSON object")
        if reply.get("error"):
            raise RpcError(f"{method}: {reply['error']}")
        return reply.get("result")
