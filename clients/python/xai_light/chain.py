"""Headers (§5.1), the module registry's validator slots (MODULE_REGISTRY §4) and their proofs."""

import rlp

from . import mpt
from .consensus import Refused, ValidatorSet, int_bytes
from .crypto import from_hex, keccak256

REGISTRY_ADDRESS = bytes.fromhex("00000000000000000000000000000a1100000000")
VALIDATORS_SLOT = int.from_bytes(keccak256(b"xai.registry.validators"), "big")
WORD = 2**256

# (JSON-RPC name, kind) in header order (CONSENSUS_NETWORK_SPEC §5.1).
HEADER_FIELDS = [
    ("parentHash", "hash"), ("sha3Uncles", "hash"), ("miner", "address"), ("stateRoot", "hash"),
    ("transactionsRoot", "hash"), ("receiptsRoot", "hash"), ("logsBloom", "bloom"), ("difficulty", "int"),
    ("number", "int"), ("gasLimit", "int"), ("gasUsed", "int"), ("timestamp", "int"), ("extraData", "data"),
    ("mixHash", "hash"), ("nonce", "nonce"), ("baseFeePerGas", "int"), ("withdrawalsRoot", "hash"),
    ("blobGasUsed", "int"), ("excessBlobGas", "int"), ("parentBeaconBlockRoot", "hash"), ("requestsHash", "hash"),
]
SIZES = {"hash": 32, "address": 20, "bloom": 256, "nonce": 8}


class Header:
    def __init__(self, fields):
        if len(fields) != len(HEADER_FIELDS):
            raise Refused(f"a header has {len(HEADER_FIELDS)} fields, got {len(fields)}")
        self.fields = fields
        self.encoded = rlp.encode(fields)
        self.hash = keccak256(self.encoded)
        get = dict(zip((n for n, _ in HEADER_FIELDS), fields))
        self.parent_hash = get["parentHash"]
        self.state_root = get["stateRoot"]
        self.number = int.from_bytes(get["number"], "big")
        self.timestamp = int.from_bytes(get["timestamp"], "big")

    @staticmethod
    def from_json(block: dict) -> "Header":
        """The header of an eth_getBlockByNumber result: each field re-encoded as §5.1 says."""
        if not isinstance(block, dict):
            raise Refused("a block is a JSON object")
        fields = []
        for name, kind in HEADER_FIELDS:
            value = block.get(name)
            if not isinstance(value, str):
                raise Refused(f"block field {name} is missing")
            try:
                raw = from_hex(value)
            except ValueError as err:
                raise Refused(f"block field {name}: {err}") from err
            if kind == "int":
                fields.append(int_bytes(int.from_bytes(raw, "big")))
            elif kind == "data":
                fields.append(raw)
            else:
                if len(raw) != SIZES[kind]:
                    raise Refused(f"block field {name} is not {SIZES[kind]} bytes")
                fields.append(raw)
        return Header(fields)

    @staticmethod
    def decode(data: bytes) -> "Header":
        fields = rlp.decode(data)
        if not isinstance(fields, list) or any(not isinstance(f, bytes) for f in fields):
            raise Refused("a header is a list of byte strings")
        return Header(fields)


def validator_slots(count: int):
    """The registry slots holding the count and `count` validators (MODULE_REGISTRY §4)."""
    return [(VALIDATORS_SLOT + i) % WORD for i in range(1 + 2 * count)]


def validators_from_proof(state_root: bytes, proof: dict, count: int):
    """Verifies an eth_getProof result of the registry's validator slots against `state_root` and
    returns (proven count, [(address, power)] for the first min(count, proven) validators).
    Refused on any mismatch between the proof and the claimed values."""
    try:
        if from_hex(proof["address"]).rjust(20, b"\0") != REGISTRY_ADDRESS:
            raise Refused("proof is for another account")
        account = mpt.verify_account(state_root, REGISTRY_ADDRESS, [from_hex(n) for n in proof["accountProof"]])
        if account is None:
            raise Refused("the registry account does not exist in this state")
        storage_root = account[2]
        if from_hex(proof["storageHash"]) != storage_root:
            raise Refused("proof storageHash differs from the proven account's")
        words = {}
        for item in proof["storageProof"]:
            slot = int(item["key"], 16)
            value = mpt.verify_storage(storage_root, slot, [from_hex(n) for n in item["proof"]])
            if int(item["value"], 16) != value:
                raise Refused(f"proof claims value {item['value']} at slot {hex(slot)}, the trie holds {hex(value)}")
            words[slot] = value
    except (KeyError, TypeError, ValueError) as err:
        raise Refused(f"malformed eth_getProof result: {err}") from err
    slots = validator_slots(count)
    missing = [s for s in slots if s not in words]
    if missing:
        raise Refused(f"proof lacks slot {hex(missing[0])}")
    proven = words[slots[0]]
    out = []
    for i in range(min(count, proven)):
        address = (words[slots[1 + 2 * i]] % 2**160).to_bytes(20, "big")
        out.append((address, words[slots[2 + 2 * i]]))
    return proven, out
