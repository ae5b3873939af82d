"""Validator sets, proposer schedule, signing digests and commit verification
(CONSENSUS_NETWORK_SPEC §1-§4)."""

import math

import rlp

from .crypto import keccak256, recover

MAX_SAFE = 2**53 - 1
MAX_CYCLE = 100_000
PREVOTE, PRECOMMIT = 1, 2
VOTE_TYPES = {"prevote": PREVOTE, "precommit": PRECOMMIT}


class Refused(Exception):
    """Something the spec says a client must refuse (a forged or malformed record)."""


def int_bytes(n: int) -> bytes:
    """An RLP integer: big-endian without leading zeros, 0 as the empty string (§1)."""
    if not isinstance(n, int) or n < 0:
        raise ValueError(f"not a non-negative integer: {n!r}")
    return b"" if n == 0 else n.to_bytes((n.bit_length() + 7) // 8, "big")


def bytes_int(b, what: str, max_len: int = 6) -> int:
    """A canonical RLP integer of at most `max_len` bytes; Refused otherwise."""
    if not isinstance(b, (bytes, bytearray)):
        raise Refused(f"{what}: expected bytes")
    if len(b) > max_len or (len(b) > 0 and b[0] == 0):
        raise Refused(f"{what}: not a canonical integer")
    return int.from_bytes(b, "big") if b else 0


def vote_preimage(chain_id: int, vote_type: int, height: int, round_: int, value) -> bytes:
    return rlp.encode([b"xai/vote", int_bytes(chain_id), int_bytes(vote_type), int_bytes(height), int_bytes(round_), value or b""])


def vote_digest(chain_id: int, vote_type: int, height: int, round_: int, value) -> bytes:
    return keccak256(vote_preimage(chain_id, vote_type, height, round_, value))


def proposal_preimage(chain_id: int, height: int, round_: int, valid_round: int, value: bytes) -> bytes:
    return rlp.encode([b"xai/proposal", int_bytes(chain_id), int_bytes(height), int_bytes(round_), int_bytes(valid_round + 1), value])


def proposal_digest(chain_id: int, height: int, round_: int, valid_round: int, value: bytes) -> bytes:
    return keccak256(proposal_preimage(chain_id, height, round_, valid_round, value))


class ValidatorSet:
    """A validator set (§2.1) with its quorum (§2.3) and proposer schedule (§2.4).
    Addresses are 20-byte `bytes`."""

    def __init__(self, validators):
        if not validators:
            raise Refused("the validator set is empty")
        powers = {}
        for address, power in validators:
            if not isinstance(address, (bytes, bytearray)) or len(address) != 20:
                raise Refused("a validator address is 20 bytes")
            if not isinstance(power, int) or power < 1 or power > MAX_SAFE:
                raise Refused(f"validator power {power!r} out of range")
            if bytes(address) in powers:
                raise Refused("a validator is listed twice")
            powers[bytes(address)] = power
        total = sum(powers.values())
        if total > MAX_SAFE:
            raise Refused("total power exceeds 2^53 - 1")
        self.validators = sorted(powers.items())
        self.powers = powers
        self.total_power = total
        self.quorum = 2 * (total // 3) + (2 * (total % 3)) // 3 + 1
        self.skip_threshold = total // 3 + 1
        self._schedule = None

    def __eq__(self, other):
        return isinstance(other, ValidatorSet) and self.validators == other.validators

    def __len__(self):
        return len(self.validators)

    def has(self, address: bytes) -> bool:
        return address in self.powers

    @property
    def schedule(self):
        if self._schedule is None:
            self._schedule = _schedule(self.validators)
        return self._schedule

    def proposer(self, height: int, round_: int) -> bytes:
        if height < 0 or round_ < 0:
            raise ValueError("height and round must be non-negative")
        s = self.schedule
        return s[(height + round_) % len(s)]


def _reduce(weights):
    g = 0
    for w in weights:
        g = math.gcd(g, w)
    return [w // g for w in weights]


def _schedule(validators):
    weights = _reduce([p for _, p in validators])
    total = sum(weights)
    if total > MAX_CYCLE:
        weights = _reduce([max(1, w * MAX_CYCLE // total) for w in weights])
        total = sum(weights)
    credit = [0] * len(weights)
    out = []
    for _ in range(total):
        best = 0
        for i, w in enumerate(weights):
            credit[i] += w
            if credit[i] > credit[best]:
                best = i
        credit[best] -= total
        out.append(validators[best][0])
    return out


class Commit:
    def __init__(self, height: int, round_: int, value: bytes, signatures):
        self.height = height
        self.round = round_
        self.value = value
        self.signatures = list(signatures)

    def encode(self) -> bytes:
        return rlp.encode([int_bytes(self.height), int_bytes(self.round), self.value, self.signatures])

    @staticmethod
    def decode(data: bytes) -> "Commit":
        try:
            fields = rlp.decode(data)
        except Exception as err:  # noqa: BLE001 - any decoding failure is a refusal
            raise Refused(f"commit is not RLP: {err}") from err
        if not isinstance(fields, list) or len(fields) != 4 or not isinstance(fields[3], list):
            raise Refused("a commit is [height, round, value, [signatures]]")
        value = fields[2]
        if not isinstance(value, bytes) or len(value) != 32:
            raise Refused("a commit value is 32 bytes")
        sigs = fields[3]
        if any(not isinstance(s, bytes) or len(s) != 65 for s in sigs):
            raise Refused("a signature is 65 bytes")
        return Commit(bytes_int(fields[0], "height"), bytes_int(fields[1], "round"), value, sigs)


def verify_commit(chain_id: int, validators: ValidatorSet, commit: Commit, height: int, block_hash: bytes):
    """§4.2: returns the signers (20-byte addresses) or raises Refused."""
    if commit.height != height:
        raise Refused(f"commit is for height {commit.height}, not {height}")
    if commit.value != block_hash:
        raise Refused("commit is for another block")
    digest = vote_digest(chain_id, PRECOMMIT, commit.height, commit.round, commit.value)
    signers = []
    power = 0
    for signature in commit.signatures:
        signer = recover(digest, signature)
        if signer is None or not validators.has(signer):
            raise Refused("commit holds a signature by no validator")
        if signer in signers:
            raise Refused("commit holds two signatures by one validator")
        signers.append(signer)
        power += validators.powers[signer]
    if power < validators.quorum:
        raise Refused(f"commit holds {power} of {validators.total_power} voting power, below the quorum {validators.quorum}")
    return signers


KIND_PROPOSAL, KIND_VOTE, KIND_STATUS = 1, 2, 3


def decode_message(chain_id: int, data: bytes) -> dict:
    """A consensus-topic message (§7.3), authenticated; Refused on anything malformed."""
    try:
        fields = rlp.decode(data)
    except Exception as err:  # noqa: BLE001
        raise Refused(f"not RLP: {err}") from err
    if not isinstance(fields, list) or not fields:
        raise Refused("a message is a list")
    kind = bytes_int(fields[0], "kind")
    if kind == KIND_STATUS:
        if len(fields) != 3:
            raise Refused("status: 3 items")
        return {"kind": "status", "height": bytes_int(fields[1], "height"), "round": bytes_int(fields[2], "round")}
    if kind == KIND_VOTE:
        if len(fields) != 6:
            raise Refused("vote: 6 items")
        vote_type = bytes_int(fields[1], "type")
        if vote_type not in (PREVOTE, PRECOMMIT):
            raise Refused(f"unknown vote type {vote_type}")
        height, round_ = bytes_int(fields[2], "height"), bytes_int(fields[3], "round")
        value = fields[4]
        if not isinstance(value, bytes) or len(value) not in (0, 32):
            raise Refused("a value is 32 bytes or empty")
        sig = fields[5]
        signer = recover(vote_digest(chain_id, vote_type, height, round_, value), sig) if isinstance(sig, bytes) else None
        if signer is None:
            raise Refused("vote signature does not recover")
        return {"kind": "vote", "type": vote_type, "height": height, "round": round_, "value": value or None, "signer": signer}
    if kind == KIND_PROPOSAL:
        if len(fields) != 7:
            raise Refused("proposal: 7 items")
        height, round_ = bytes_int(fields[1], "height"), bytes_int(fields[2], "round")
        valid_round = bytes_int(fields[3], "valid round") - 1
        value, block, sig = fields[4], fields[5], fields[6]
        if not isinstance(value, bytes) or len(value) != 32:
            raise Refused("a proposal needs a 32-byte value")
        if not isinstance(block, bytes):
            raise Refused("block: expected bytes")
        if valid_round >= round_:
            raise Refused("valid round must be below the round")
        signer = recover(proposal_digest(chain_id, height, round_, valid_round, value), sig) if isinstance(sig, bytes) else None
        if signer is None:
            raise Refused("proposal signature does not recover")
        return {"kind": "proposal", "height": height, "round": round_, "validRound": valid_round, "value": value, "block": block, "signer": signer}
    raise Refused(f"unknown message kind {kind}")
