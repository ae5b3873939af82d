"""The light client against docs/spec/vectors (fast, no devnet)."""

import copy

import pytest
import rlp

from conftest import load
from xai_light.chain import HEADER_FIELDS, REGISTRY_ADDRESS, VALIDATORS_SLOT, Header, validators_from_proof
from xai_light.consensus import (PRECOMMIT, VOTE_TYPES, Commit, Refused, ValidatorSet, decode_message, proposal_digest,
                                 proposal_preimage, verify_commit, vote_digest, vote_preimage)
from xai_light.crypto import from_hex, keccak256, recover, to_hex
from xai_light.follower import LightClient, commit_from_json

SIGNING = load("signing.json")
COMMITS = load("commits.json")
SETS = load("validator-sets.json")
REGISTRY = load("registry.json")
CHAIN = load("chain.json")


def value_of(v):
    return from_hex(v) if v else None


def vset(items):
    return ValidatorSet([(from_hex(v["address"]), v["power"]) for v in items])


# ---- signing ------------------------------------------------------------------------------------

@pytest.mark.parametrize("v", SIGNING["votes"], ids=lambda v: f"{v['type']}-h{v['height']}-r{v['round']}-c{v['chainId']}")
def test_vote_signing_bytes(v):
    t = VOTE_TYPES[v["type"]]
    assert to_hex(vote_preimage(v["chainId"], t, v["height"], v["round"], value_of(v["value"]))) == v["preimage"]
    digest = vote_digest(v["chainId"], t, v["height"], v["round"], value_of(v["value"]))
    assert to_hex(digest) == v["digest"]
    assert to_hex(recover(digest, from_hex(v["signature"]))) == v["signer"]
    m = decode_message(v["chainId"], from_hex(v["wire"]))
    assert (m["kind"], m["type"], m["height"], m["round"], to_hex(m["signer"])) == ("vote", t, v["height"], v["round"], v["signer"])


@pytest.mark.parametrize("p", SIGNING["proposals"], ids=lambda p: f"h{p['height']}-r{p['round']}")
def test_proposal_signing_bytes(p):
    args = (p["chainId"], p["height"], p["round"], p["validRound"], from_hex(p["value"]))
    assert to_hex(proposal_preimage(*args)) == p["preimage"]
    assert to_hex(proposal_digest(*args)) == p["digest"]
    assert to_hex(recover(proposal_digest(*args), from_hex(p["signature"]))) == p["signer"]
    m = decode_message(p["chainId"], from_hex(p["wire"]))
    assert (m["validRound"], to_hex(m["block"]), to_hex(m["signer"])) == (p["validRound"], p["block"], p["signer"])


def test_status_and_refusals():
    s = SIGNING["status"][0]
    assert decode_message(31337, from_hex(s["wire"])) == {"kind": "status", "height": s["height"], "round": s["round"]}
    vote = SIGNING["votes"][0]
    wire = bytearray(from_hex(vote["wire"]))
    wire[-1] ^= 0x02  # recid 0/1 -> 2/3
    with pytest.raises(Refused):
        decode_message(31337, bytes(wire))
    with pytest.raises(Refused):
        decode_message(31337, b"\xc1\x09")  # kind 9
    # On another chain the same vote recovers another signer: the chain id is in the digest.
    m = decode_message(1, from_hex(vote["wire"]))
    assert to_hex(m["signer"]) != vote["signer"]


def test_recover_refuses_out_of_range_signatures():
    d = from_hex(SIGNING["votes"][0]["digest"])
    assert recover(d, b"\0" * 65) is None
    assert recover(d, b"\xff" * 64 + b"\0") is None
    assert recover(d, from_hex(SIGNING["votes"][0]["signature"])[:64]) is None


# ---- commits ------------------------------------------------------------------------------------

@pytest.mark.parametrize("case", COMMITS["cases"], ids=lambda c: c["name"])
def test_commit_verification(case):
    validators = ValidatorSet([(from_hex(v["address"]), v["power"]) for v in COMMITS["validators"]])
    assert validators.quorum == COMMITS["quorum"]
    commit = Commit.decode(from_hex(case["encoded"]))
    assert to_hex(commit.encode()) == case["encoded"]
    assert [to_hex(s) for s in commit.signatures] == case["commit"]["signatures"]
    if case["valid"]:
        signers = verify_commit(case["chainId"], validators, commit, case["height"], from_hex(case["blockHash"]))
        assert [to_hex(s) for s in signers] == case["signers"]
    else:
        with pytest.raises(Refused):
            verify_commit(case["chainId"], validators, commit, case["height"], from_hex(case["blockHash"]))


# ---- validator sets -----------------------------------------------------------------------------

@pytest.mark.parametrize("row", SETS["quorumTable"], ids=lambda r: str(r["totalPower"]))
def test_quorum(row):
    s = ValidatorSet([(b"\x01" * 20, row["totalPower"])])
    assert (s.quorum, s.skip_threshold) == (row["quorum"], row["skipThreshold"])


@pytest.mark.parametrize("case", SETS["sets"], ids=lambda s: s["name"])
def test_proposer_sequence(case):
    s = vset(case["validators"])
    assert [(to_hex(a), p) for a, p in s.validators] == [(v["address"], v["power"]) for v in case["validators"]]
    assert (s.total_power, s.quorum, s.skip_threshold) == (case["totalPower"], case["quorum"], case["skipThreshold"])
    for row in case["proposers"]:
        assert to_hex(s.proposer(row["height"], row["round"])) == row["proposer"], row


def read_set_from_storage(storage):
    words = {int(k, 16): int(v, 16) for k, v in storage.items()}
    n = words.get(VALIDATORS_SLOT, 0)
    return [((words.get(VALIDATORS_SLOT + 1 + 2 * i, 0) % 2**160).to_bytes(20, "big"), words.get(VALIDATORS_SLOT + 2 + 2 * i, 0)) for i in range(n)]


@pytest.mark.parametrize("t", SETS["transitions"], ids=lambda t: t["name"])
def test_validator_set_transitions(t):
    assert to_hex(VALIDATORS_SLOT.to_bytes(32, "big")) == SETS["validatorsSlot"]
    assert ValidatorSet(read_set_from_storage(t["storageBefore"])) == vset(t["before"])
    assert ValidatorSet(read_set_from_storage(t["storageAfter"])) == vset(t["after"])
    # The set is stored in canonical order, and a shrunk set leaves no words behind.
    assert [(to_hex(a), p) for a, p in read_set_from_storage(t["storageAfter"])] == [(v["address"], v["power"]) for v in t["after"]]
    assert len(t["storageAfter"]) == 1 + 2 * len(t["after"])


# ---- registry layout ----------------------------------------------------------------------------

def mapping_slot(base: int, key: int) -> int:
    return int.from_bytes(keccak256(key.to_bytes(32, "big") + base.to_bytes(32, "big")), "big")


def ns(name):
    return int.from_bytes(keccak256(name.encode()), "big")


def test_registry_layout():
    assert from_hex(REGISTRY["registryAddress"]) == REGISTRY_ADDRESS
    for item in REGISTRY["namespaces"]:
        assert to_hex(ns(item["name"]).to_bytes(32, "big")) == item["slot"]
    for m in REGISTRY["modules"]:
        address = REGISTRY_ADDRESS if m["id"] == "registry" else from_hex(REGISTRY["modulePrefix"]) + keccak256(("xai-module:" + m["id"]).encode())[:4]
        assert to_hex(address) == m["address"].lower()
        assert to_hex(mapping_slot(ns("xai.registry.entry"), int.from_bytes(address, "big")).to_bytes(32, "big")) == m["entryBase"]
    for b in REGISTRY["builtinCodeHashes"]:
        assert to_hex(keccak256(f"xai-builtin:{b['id']}@{b['version']}".encode())) == b["codeHash"]
    for c in REGISTRY["chainParameters"] + REGISTRY["featureFlags"]:
        key = int.from_bytes(keccak256(c["name"].encode()), "big")
        base = ns("xai.registry.chain") if c in REGISTRY["chainParameters"] else ns("xai.registry.flags")
        assert to_hex(mapping_slot(base, key).to_bytes(32, "big")) == c["slot"]


def read_string(storage, slot):
    words = {int(k, 16): int(v, 16) for k, v in storage.items()}
    head = words.get(slot, 0)
    if head & 1 == 0:
        return head.to_bytes(32, "big")[: (head & 0xFF) // 2].decode()
    length = (head - 1) // 2
    data_slot = int.from_bytes(keccak256(slot.to_bytes(32, "big")), "big")
    data = b"".join(words.get(data_slot + i, 0).to_bytes(32, "big") for i in range((length + 31) // 32))
    return data[:length].decode()


@pytest.mark.parametrize("s", REGISTRY["strings"], ids=lambda s: f"len{len(s['value'])}")
def test_string_storage(s):
    assert read_string(s["storage"], int(s["slot"], 16)) == s["value"]


# ---- a real chain -------------------------------------------------------------------------------

def test_headers_hash_and_link():
    genesis = Header.decode(from_hex(CHAIN["genesis"]["header"]))
    assert to_hex(genesis.hash) == CHAIN["genesis"]["hash"]
    parent = genesis.hash
    for b in CHAIN["blocks"]:
        h = Header([from_hex(f) for f in b["headerFields"]])
        assert to_hex(h.encoded) == b["header"]
        assert to_hex(h.hash) == b["hash"]
        assert h.parent_hash == parent and h.number == b["number"]
        parent = h.hash


def test_registry_proofs_give_each_heights_set():
    g = CHAIN["genesis"]
    count, validators = validators_from_proof(from_hex(g["stateRoot"]), g["registryProof"], 4)
    assert count == 4 and ValidatorSet(validators) == vset(g["validators"])
    for b in CHAIN["blocks"]:
        n = len(b["nextValidators"])
        count, validators = validators_from_proof(from_hex(b["stateRoot"]), b["registryProof"], n)
        assert count == n and ValidatorSet(validators) == vset(b["nextValidators"])


def test_a_tampered_proof_is_refused():
    b = CHAIN["blocks"][5]
    forged = copy.deepcopy(b["registryProof"])
    forged["storageProof"][0]["value"] = "0x4"  # claim 4 validators where the trie holds 5
    with pytest.raises(Refused):
        validators_from_proof(from_hex(b["stateRoot"]), forged, 5)
    with pytest.raises(Refused):  # the right proof against another state root
        validators_from_proof(from_hex(CHAIN["blocks"][0]["stateRoot"]), b["registryProof"], 5)


class VectorNode:
    """An RPC node that serves the vectors' chain: what the light client sees from a real node."""

    def __init__(self, chain, forge=None):
        self.chain = chain
        self.forge = forge or {}
        self.blocks = [chain["genesis"]] + chain["blocks"]

    def block_json(self, i):
        if i == 0:
            fields = rlp.decode(from_hex(self.chain["genesis"]["header"]))
            fields = [to_hex(f) for f in fields]
            hash_ = self.chain["genesis"]["hash"]
        else:
            fields, hash_ = self.blocks[i]["headerFields"], self.blocks[i]["hash"]
        out = {"hash": hash_}
        for (name, kind), value in zip(HEADER_FIELDS, fields):
            out[name] = value if kind not in ("int",) else hex(int(value, 16) if value != "0x" else 0)
        return out

    def call(self, method, *params):
        if method == "eth_chainId":
            return hex(self.chain["chainId"])
        if method == "eth_getBlockByNumber":
            i = int(params[0], 16)
            return self.block_json(i) if i < len(self.blocks) else None
        if method == "xai_getBlockCommit":
            i = int(params[0], 16)
            if i == 0 or i >= len(self.blocks):
                return None
            c = copy.deepcopy(self.blocks[i]["commit"])
            return self.forge.get(i, lambda x: x)(c)
        if method == "eth_getProof":
            i = int(params[2], 16)
            proof = self.blocks[i]["registryProof"]
            wanted = {int(s, 16) for s in params[1]}
            return {**proof, "storageProof": [p for p in proof["storageProof"] if int(p["key"], 16) in wanted]}
        raise AssertionError(method)


def test_follows_the_vector_chain_through_a_validator_change():
    client = LightClient(VectorNode(CHAIN), from_hex(CHAIN["genesis"]["hash"]))
    client.bootstrap()
    records = client.follow(to_height=len(CHAIN["blocks"]))
    assert [r["height"] for r in records] == [b["number"] for b in CHAIN["blocks"]]
    assert [r["validators"] for r in records] == [len(b["validators"]) for b in CHAIN["blocks"]]
    assert [h for h, _ in client.history] == [1, 7]


def flip_signature(c):
    sig = bytearray(from_hex(c["signatures"][0]))
    sig[5] ^= 0x01
    c["signatures"][0] = to_hex(sig)
    return c


@pytest.mark.parametrize("forge", [
    flip_signature,
    lambda c: {**c, "signatures": c["signatures"][:1]},
    lambda c: {**c, "signatures": [c["signatures"][0]] * 3},
    lambda c: {**c, "blockHash": CHAIN["blocks"][0]["hash"]},
], ids=["forged signature", "too few signatures", "duplicate signer", "another block"])
def test_refuses_a_forged_commit(forge):
    client = LightClient(VectorNode(CHAIN, {3: forge}), from_hex(CHAIN["genesis"]["hash"]))
    client.bootstrap()
    with pytest.raises(Refused):
        client.follow(to_height=len(CHAIN["blocks"]))
    assert client.height == 2


def test_refuses_a_wrong_genesis_and_a_header_that_lies():
    with pytest.raises(Refused):
        LightClient(VectorNode(CHAIN), b"\x11" * 32).bootstrap()
    node = VectorNode(CHAIN)
    original = node.block_json
    node.block_json = lambda i: {**original(i), "gasUsed": "0x1"} if i == 2 else original(i)
    client = LightClient(node, from_hex(CHAIN["genesis"]["hash"]))
    client.bootstrap()
    with pytest.raises(Refused):
        client.follow(to_height=3)
    assert client.height == 1


def test_commit_json_shape_is_checked():
    good = CHAIN["blocks"][0]["commit"]
    assert commit_from_json(good).round == 0
    for bad in [None, {**good, "height": "1"}, {**good, "signatures": ["0x00"]}, {**good, "blockHash": "zz"}]:
        with pytest.raises(Refused):
            commit_from_json(bad)


def test_serialized_blocks_hold_their_header_and_transactions():
    for b in CHAIN["blocks"]:
        header, txs, uncles, withdrawals = rlp.decode(from_hex(b["block"]))
        assert to_hex(rlp.encode(header)) == b["header"]
        assert uncles == [] and withdrawals == []
        raw = [t if isinstance(t, bytes) else rlp.encode(t) for t in txs]
        assert [to_hex(keccak256(t)) for t in raw] == b["transactions"]
    assert CHAIN["genesis"]["document"]["config"]["chainId"] == CHAIN["chainId"]
    # The genesis names the validators in any order; the set is in canonical order.
    assert vset(CHAIN["genesis"]["document"]["validators"]) == vset(CHAIN["genesis"]["validators"])


def test_proves_accounts_against_the_verified_state_root():
    node = VectorNode(CHAIN)
    client = LightClient(node, from_hex(CHAIN["genesis"]["hash"]))
    client.bootstrap()
    client.follow(to_height=2)
    # The registry account's proof from the vectors, at height 2: nonce 0, balance 0, present.
    proof = CHAIN["blocks"][1]["registryProof"]
    node.call = lambda method, *params: {**proof, "balance": "0x0"} if method == "eth_getProof" else VectorNode.call(node, method, *params)
    assert client.account(REGISTRY_ADDRESS) == {"address": to_hex(REGISTRY_ADDRESS), "height": 2, "nonce": 0, "balance": 0}
    node.call = lambda method, *params: {**proof, "balance": "0x1"} if method == "eth_getProof" else VectorNode.call(node, method, *params)
    with pytest.raises(Refused):
        client.account(REGISTRY_ADDRESS)


# ---- evidence and block sync (§5.3, §7.5) -------------------------------------------------------

def uvarint(n: int) -> bytes:
    out = bytearray()
    while n >= 0x80:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def test_evidence_list_encoding_and_commitment():
    ev = SIGNING["evidence"]
    items = []
    for pair in ev["pairs"]:
        fields = []
        for vote in (pair["first"], pair["second"]):
            t = VOTE_TYPES[vote["type"]]
            value = value_of(vote["value"]) or b""
            sig = from_hex(vote["signature"])
            assert to_hex(recover(vote_digest(31337, t, vote["height"], vote["round"], value or None), sig)) == pair["validator"]
            fields.append([bytes([t]), vote["height"].to_bytes(1, "big"), vote["round"].to_bytes(1, "big"), value, sig])
        # Same signer, same slot, different values: evidence.
        assert (pair["first"]["type"], pair["first"]["height"], pair["first"]["round"]) == (pair["second"]["type"], pair["second"]["height"], pair["second"]["round"])
        assert pair["first"]["value"] != pair["second"]["value"]
        items.append(fields)
    encoded = rlp.encode(items)
    assert to_hex(encoded) == ev["encoded"]
    assert to_hex(keccak256(encoded)) == ev["commitment"]
    assert ev["emptyEncoded"] == "0xc0" and ev["emptyCommitment"] == "0x"


def test_sync_framing():
    sync = SIGNING["sync"]
    assert sync["protocol"] == "/xai/31337/req/sync/1"
    req = rlp.encode([bytes([sync["request"]["from"]]), bytes([sync["request"]["count"]])])
    assert to_hex(req) == sync["request"]["encoded"]
    assert to_hex(uvarint(len(req)) + req) == sync["request"]["frame"]
    for h in sync["responseHeader"]:
        header = b"\x00" + uvarint(h["items"])
        assert to_hex(header) == h["header"]
        assert to_hex(uvarint(len(header)) + header) == h["frame"]
    assert to_hex(b"\x01" + sync["errorHeader"]["reason"].encode()) == sync["errorHeader"]["header"]


def test_sync_items_carry_block_evidence_and_commit():
    for b in CHAIN["blocks"]:
        bundle, commit_bytes = rlp.decode(from_hex(b["syncItem"]))
        block, evidence = rlp.decode(bundle)
        assert to_hex(block) == b["block"]
        assert evidence == rlp.encode([])  # RLP inside RLP: the evidence list's bytes
        assert to_hex(commit_bytes) == b["commitEncoded"]
        record_commit, record_evidence = rlp.decode(from_hex(b["consensusRecord"]))
        assert record_commit == commit_bytes and record_evidence == evidence
        commit = Commit.decode(commit_bytes)
        header = Header.decode(rlp.encode(rlp.decode(block)[0]))
        verify_commit(CHAIN["chainId"], vset(b["validators"]), commit, b["number"], header.hash)
