"""The light client against a running devnet. Skipped unless XAI_RPC_URL names a node;
test/e2e/light-client.test.ts starts a 4-validator devnet, passes a validator-add proposal while
these tests run, and serves a proxy that forges one signature of every commit (XAI_FORGED_RPC_URL).

XAI_EXPECT_VALIDATORS=N: follow until the tracked set has N validators and 2 heights beyond.
XAI_FOLLOW_TIMEOUT: seconds without a new block before giving up (default 60).
"""

import os
import subprocess
import sys

import pytest

from xai_light.consensus import Refused
from xai_light.crypto import to_hex
from xai_light.follower import LightClient
from xai_light.rpc import Rpc

RPC_URL = os.environ.get("XAI_RPC_URL")
FORGED_URL = os.environ.get("XAI_FORGED_RPC_URL")
EXPECT = int(os.environ.get("XAI_EXPECT_VALIDATORS", "0"))
TIMEOUT = float(os.environ.get("XAI_FOLLOW_TIMEOUT", "60"))
PACKAGE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

pytestmark = pytest.mark.skipif(not RPC_URL, reason="XAI_RPC_URL is not set (no devnet to follow)")


@pytest.fixture(scope="module")
def client():
    """One client for the file: it follows the devnet from genesis once, each test from where the
    one before left it."""
    light = LightClient(Rpc(RPC_URL))
    assert light.bootstrap()["validators"] >= 1
    return light


def test_follows_the_devnet_verifying_every_commit(client):
    head = int(Rpc(RPC_URL).call("eth_blockNumber"), 16)
    records = client.follow(to_height=max(head, 3), timeout=TIMEOUT)
    assert [r["height"] for r in records] == list(range(1, max(head, 3) + 1))  # every one, in order
    assert all(r["power"] >= ValidatorQuorum.of(r) for r in records)
    if EXPECT:
        # Keep following until the registry's set (proven against verified state roots) changes.
        give_up = client.height + int(os.environ.get("XAI_EXPECT_WITHIN_BLOCKS", "120"))
        while len(client.validators) != EXPECT:
            assert client.height < give_up, f"no set of {EXPECT} validators by height {give_up}"
            client.follow(to_height=client.height + 1, timeout=TIMEOUT)
        changed_at = client.height + 1
        client.follow(to_height=changed_at + 2, timeout=TIMEOUT)
        assert [len(s) for _, s in client.history][-1] == EXPECT
        assert client.history[-1][0] == changed_at
        print(f"validator set of {EXPECT} from height {changed_at}; verified up to {client.height} ({to_hex(client.head_hash)})")


class ValidatorQuorum:
    @staticmethod
    def of(record):
        total = record["totalPower"]
        return 2 * (total // 3) + (2 * (total % 3)) // 3 + 1


@pytest.mark.skipif(not FORGED_URL, reason="XAI_FORGED_RPC_URL is not set (no forging proxy)")
def test_refuses_a_forged_commit():
    client = LightClient(Rpc(FORGED_URL))
    client.bootstrap()
    with pytest.raises(Refused, match="no validator|quorum"):
        client.follow(to_height=3, timeout=TIMEOUT)
    assert client.height == 0


@pytest.mark.skipif(not FORGED_URL, reason="XAI_FORGED_RPC_URL is not set (no forging proxy)")
def test_the_cli_prints_verified_heights_and_exits_2_on_a_forgery():
    env = {**os.environ, "PYTHONPATH": PACKAGE_DIR}
    good = subprocess.run([sys.executable, "-m", "xai_light", "follow", "--rpc-url", RPC_URL, "--to-height", "2", "--timeout", str(TIMEOUT)], env=env, capture_output=True, text=True, timeout=TIMEOUT * 3)
    assert good.returncode == 0, good.stdout + good.stderr
    assert "verified height 1 " in good.stdout and "verified height 2 " in good.stdout
    bad = subprocess.run([sys.executable, "-m", "xai_light", "follow", "--rpc-url", FORGED_URL, "--to-height", "2", "--timeout", str(TIMEOUT)], env=env, capture_output=True, text=True, timeout=TIMEOUT * 3)
    assert bad.returncode == 2, bad.stdout + bad.stderr
    assert "REFUSED height 1" in bad.stdout


@pytest.mark.skipif(not os.environ.get("XAI_PROVE_ACCOUNT"), reason="XAI_PROVE_ACCOUNT is not set")
def test_proves_an_account_changed_through_another_node(client):
    """A faucet claim sent to another node of the devnet: the light client, following node
    XAI_RPC_URL, proves the recipient's balance against the state root it verified."""
    from xai_light.crypto import from_hex

    head = int(Rpc(RPC_URL).call("eth_blockNumber"), 16)
    client.follow(to_height=head, timeout=TIMEOUT)
    account = client.account(from_hex(os.environ["XAI_PROVE_ACCOUNT"]))
    assert account["balance"] >= int(os.environ.get("XAI_PROVE_MIN_BALANCE", "1"))
    print(f"proven at height {account['height']}: {account['address']} holds {account['balance']} wei")
