"""python -m xai_light follow --rpc-url URL [--genesis-hash 0x…] [--to-height N] [--timeout S] [--json]"""

import argparse
import json
import sys

from .consensus import Refused
from .crypto import from_hex
from .follower import LightClient
from .rpc import Rpc, RpcError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m xai_light", description="A light client for the XAI chain (docs/spec).")
    sub = parser.add_subparsers(dest="command", required=True)
    follow = sub.add_parser("follow", help="verify every block of a node: header hash, parent link, commit, validator set")
    follow.add_argument("--rpc-url", required=True)
    follow.add_argument("--genesis-hash", help="the trusted hash of block 0 (default: pin the node's, and say so)")
    follow.add_argument("--to-height", type=int, help="stop after verifying this height (default: follow forever)")
    follow.add_argument("--timeout", type=float, help="give up when no new block arrives for this many seconds")
    follow.add_argument("--json", action="store_true", help="one JSON object per line")
    follow.add_argument("--account", action="append", default=[], help="after following, print this account's balance proven against the last verified state root (repeatable)")
    args = parser.parse_args(argv)

    def emit(obj, text):
        print(json.dumps(obj) if args.json else text, flush=True)

    client = LightClient(Rpc(args.rpc_url), from_hex(args.genesis_hash) if args.genesis_hash else None)
    try:
        boot = client.bootstrap()
        emit({"event": "bootstrap", **boot}, f"chain {boot['chainId']} genesis {boot['genesis']}{' (pinned on first use)' if boot['pinned'] else ''}, {boot['validators']} validators")

        def on_block(r):
            emit({"event": "verified", **r}, f"verified height {r['height']} {r['hash']} round {r['round']} signers {r['signers']}/{r['validators']} power {r['power']}/{r['totalPower']}")
            if r["nextValidators"] is not None:
                emit({"event": "validators", "fromHeight": r["height"] + 1, "validators": r["nextValidators"]}, f"validator set from height {r['height'] + 1}: " + ", ".join(f"{v['address']}:{v['power']}" for v in r["nextValidators"]))

        client.follow(to_height=args.to_height, timeout=args.timeout, on_block=on_block)
        for address in args.account:
            a = client.account(from_hex(address))
            emit({"event": "account", **a}, f"account {a['address']} at height {a['height']}: balance {a['balance']} wei, nonce {a['nonce']} (proven)")
    except Refused as err:
        emit({"event": "refused", "height": (client.height or 0) + 1, "reason": str(err)}, f"REFUSED height {(client.height or 0) + 1}: {err}")
        return 2
    except (RpcError, TimeoutError) as err:
        emit({"event": "error", "reason": str(err)}, f"error: {err}")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
