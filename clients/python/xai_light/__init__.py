"""xai_light: a light client for the XAI chain, written from docs/spec (CONSENSUS_NETWORK_SPEC.md,
MODULE_REGISTRY.md) and the conformance vectors only.

It follows a node over JSON-RPC: every header's hash is recomputed, every parent link checked,
every commit verified against the validator set it tracks, and the validator set of the next
height is read from the module registry's storage with eth_getProof, verified against the
verified state root. Dependencies: Debian's python3-ecdsa, python3-pycryptodome, python3-rlp.
"""

__version__ = "1.0.0"
SPEC_VERSION = "1.0.0"
