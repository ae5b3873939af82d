"""Following a chain over JSON-RPC (CONSENSUS_NETWORK_SPEC §6): bootstrap from block 0, then for
each height verify the header hash, the parent link and the commit against the tracked set, and
take the next height's set from the registry's storage proven against the block's state root."""

import time

from . import mpt
from .chain import REGISTRY_ADDRESS, Header, validator_slots, validators_from_proof
from .consensus import Commit, Refused, ValidatorSet, verify_commit
from .crypto import from_hex, to_hex
from .rpc import Rpc

#: A proven validator count above this is refused rather than fetched (a hostile node's DoS).
MAX_VALIDATORS = 10_000


class LightClient:
    def __init__(self, rpc: Rpc, genesis_hash: bytes = None):
        self.rpc = rpc
        self.trusted_genesis = genesis_hash
        self.chain_id = None
        self.height = None
        self.head_hash = None
        #: The state root of the verified block self.height.
        self.state_root = None
        #: The set deciding height self.height + 1.
        self.validators = None
        #: (height, ValidatorSet): the heights from which each set decided, in order.
        self.history = []

    # ---- trust -------------------------------------------------------------------------------

    def bootstrap(self) -> dict:
        self.chain_id = int(self.rpc.call("eth_chainId"), 16)
        block = self.rpc.call("eth_getBlockByNumber", "0x0", False)
        header = Header.from_json(block)
        if header.number != 0:
            raise Refused(f"block 0 has number {header.number}")
        self._check_served_hash(block, header)
        pinned = self.trusted_genesis is None
        if not pinned and header.hash != self.trusted_genesis:
            raise Refused(f"block 0 hash {to_hex(header.hash)} is not the trusted {to_hex(self.trusted_genesis)}")
        self.height = 0
        self.head_hash = header.hash
        self.state_root = header.state_root
        self.validators = self.read_validators(header, 4)
        self.history.append((1, self.validators))
        return {"chainId": self.chain_id, "genesis": to_hex(header.hash), "pinned": pinned, "validators": len(self.validators)}

    def read_validators(self, header: Header, guess: int, previous: ValidatorSet = None) -> ValidatorSet:
        """The set in the state of `header` (it decides header.number + 1), proven (§6.3). An
        empty registry set leaves `previous` in force (§2.2); at block 0 it is refused."""
        count = max(1, guess)
        for _ in range(3):
            proof = self.rpc.call("eth_getProof", to_hex(REGISTRY_ADDRESS), [hex(s) for s in validator_slots(count)], hex(header.number))
            proven, validators = validators_from_proof(header.state_root, proof, count)
            if proven == 0:
                if previous is not None:
                    return previous
                raise Refused(f"the registry in the state of block {header.number} holds no validator set")
            if proven > MAX_VALIDATORS:
                raise Refused(f"the registry claims {proven} validators")
            if proven == count:
                return ValidatorSet(validators)
            count = proven
        raise Refused("the validator count kept changing between proofs of one state root")

    @staticmethod
    def _check_served_hash(block: dict, header: Header) -> None:
        served = block.get("hash")
        if not isinstance(served, str) or from_hex(served) != header.hash:
            raise Refused(f"the node serves hash {served} for block {header.number}; its header hashes to {to_hex(header.hash)}")

    # ---- following ---------------------------------------------------------------------------

    def step(self):
        """Verifies the next height if the node has it committed; returns its record, or None
        when it is not there yet. Raises Refused on anything forged or malformed."""
        height = self.height + 1
        block = self.rpc.call("eth_getBlockByNumber", hex(height), False)
        if block is None:
            return None
        record = self.rpc.call("xai_getBlockCommit", hex(height))
        if record is None:
            return None
        header = Header.from_json(block)
        if header.number != height:
            raise Refused(f"asked for block {height}, got {header.number}")
        self._check_served_hash(block, header)
        if header.parent_hash != self.head_hash:
            raise Refused(f"block {height} does not extend the verified block {height - 1}")
        commit = commit_from_json(record)
        signers = verify_commit(self.chain_id, self.validators, commit, height, header.hash)
        decided_by = self.validators
        next_set = self.read_validators(header, len(self.validators), previous=self.validators)
        changed = next_set != self.validators
        if changed:
            self.history.append((height + 1, next_set))
        self.validators = next_set
        self.height = height
        self.head_hash = header.hash
        self.state_root = header.state_root
        power = sum(decided_by.powers[s] for s in signers)
        return {
            "height": height,
            "hash": to_hex(header.hash),
            "round": commit.round,
            "signers": len(signers),
            "validators": len(decided_by),
            "power": power,
            "totalPower": decided_by.total_power,
            "nextValidators": [{"address": to_hex(a), "power": p} for a, p in next_set.validators] if changed else None,
        }

    def account(self, address: bytes) -> dict:
        """An account in the state of the last verified block, proven with eth_getProof against its
        verified state root (never the node's word): nonce and balance, zeros when absent."""
        proof = self.rpc.call("eth_getProof", to_hex(address), [], hex(self.height))
        try:
            nodes = [from_hex(n) for n in proof["accountProof"]]
        except (KeyError, TypeError, ValueError) as err:
            raise Refused(f"malformed eth_getProof result: {err}") from err
        account = mpt.verify_account(self.state_root, address, nodes)
        nonce, balance = (0, 0) if account is None else account[:2]
        claimed = int(proof.get("balance", "0x0"), 16)
        if claimed != balance:
            raise Refused(f"the node claims balance {claimed}, the proof holds {balance}")
        return {"address": to_hex(address), "height": self.height, "nonce": nonce, "balance": balance}

    def follow(self, to_height=None, timeout=None, poll=0.5, on_block=None):
        """Verifies heights until `to_height` (or forever); returns the verified records."""
        deadline = None if timeout is None else time.monotonic() + timeout
        out = []
        while to_height is None or self.height < to_height:
            record = self.step()
            if record is None:
                if deadline is not None and time.monotonic() > deadline:
                    raise TimeoutError(f"no block {self.height + 1} within {timeout} s")
                time.sleep(poll)
                continue
            out.append(record)
            if on_block:
                on_block(record)
        return out


def commit_from_json(record) -> Commit:
    """The commit of an xai_getBlockCommit result (§6.2), checked for shape."""
    if not isinstance(record, dict):
        raise Refused("xai_getBlockCommit: expected an object")
    height, round_ = record.get("height"), record.get("round")
    if not isinstance(height, int) or not isinstance(round_, int) or isinstance(height, bool) or height < 0 or round_ < 0:
        raise Refused("xai_getBlockCommit: height and round are non-negative integers")
    try:
        value = from_hex(record["blockHash"])
        signatures = [from_hex(s) for s in record["signatures"]]
    except (KeyError, TypeError, ValueError) as err:
        raise Refused(f"xai_getBlockCommit: {err}") from err
    if len(value) != 32 or any(len(s) != 65 for s in signatures):
        raise Refused("xai_getBlockCommit: a block hash is 32 bytes and a signature 65")
    return Commit(height, round_, value, signatures)
