"""Merkle Patricia trie proofs (EIP-1186, as CONSENSUS_NETWORK_SPEC §6.3 uses them)."""

import rlp

from .consensus import Refused
from .crypto import keccak256

EMPTY_TRIE_ROOT = keccak256(rlp.encode(b""))


def _nibbles(key: bytes):
    out = []
    for b in key:
        out.extend((b >> 4, b & 0x0F))
    return out


def _decode_path(encoded: bytes):
    """Hex-prefix decoding: (nibbles, is_leaf)."""
    if not encoded:
        raise Refused("proof: empty node path")
    flag = encoded[0] >> 4
    if flag > 3:
        raise Refused("proof: bad hex-prefix flag")
    nib = _nibbles(encoded)
    return (nib[1:] if flag & 1 else nib[2:]), flag >= 2


def verify(root: bytes, key: bytes, proof) -> bytes:
    """The value under keccak256(key) in the trie with `root`, proven by `proof` (a list of RLP
    nodes); b"" when the proof shows the key is absent. Refused when the proof does not prove
    either."""
    nodes = {keccak256(n): n for n in proof}
    path = _nibbles(keccak256(key))
    if root == EMPTY_TRIE_ROOT:
        return b""
    ref = root
    i = 0
    for _ in range(len(path) + 2):
        if isinstance(ref, list):
            node = ref
        else:
            if not isinstance(ref, bytes) or len(ref) != 32:
                raise Refused("proof: bad node reference")
            raw = nodes.get(ref)
            if raw is None:
                raise Refused("proof: a node is missing")
            try:
                node = rlp.decode(raw)
            except Exception as err:  # noqa: BLE001
                raise Refused(f"proof: node is not RLP: {err}") from err
        if not isinstance(node, list):
            raise Refused("proof: a node is a list")
        if len(node) == 17:
            if i == len(path):
                return node[16]
            child = node[path[i]]
            i += 1
            if child == b"":
                return b""
            ref = child
        elif len(node) == 2:
            rest, leaf = _decode_path(node[0])
            if leaf:
                return node[1] if path[i:] == rest else b""
            if path[i:i + len(rest)] != rest:
                return b""
            i += len(rest)
            ref = node[1]
        else:
            raise Refused("proof: a node has 2 or 17 items")
    raise Refused("proof: path too long")


def verify_account(state_root: bytes, address: bytes, proof):
    """(nonce, balance, storageRoot, codeHash) of `address`, or None for an absent account."""
    value = verify(state_root, address, proof)
    if value == b"":
        return None
    fields = rlp.decode(value)
    if not isinstance(fields, list) or len(fields) != 4:
        raise Refused("proof: an account is [nonce, balance, storageRoot, codeHash]")
    return (int.from_bytes(fields[0], "big"), int.from_bytes(fields[1], "big"), fields[2], fields[3])


def verify_storage(storage_root: bytes, slot: int, proof) -> int:
    value = verify(storage_root, slot.to_bytes(32, "big"), proof)
    if value == b"":
        return 0
    word = rlp.decode(value)
    if not isinstance(word, bytes) or len(word) > 32:
        raise Refused("proof: a storage value is at most 32 bytes")
    return int.from_bytes(word, "big")
