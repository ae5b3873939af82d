"""keccak256, secp256k1 public-key recovery and addresses (CONSENSUS_NETWORK_SPEC §1, §3)."""

from Cryptodome.Hash import keccak as _keccak
from ecdsa import SECP256k1
from ecdsa.ellipticcurve import INFINITY, Point, PointJacobi

_CURVE = SECP256k1.curve
_G = SECP256k1.generator
N = SECP256k1.order
_P = _CURVE.p()


def keccak256(data: bytes) -> bytes:
    return _keccak.new(digest_bits=256, data=bytes(data)).digest()


def address_of_public_key(x: int, y: int) -> bytes:
    """The 20-byte address of an uncompressed public key (last 20 bytes of keccak256(x || y))."""
    return keccak256(x.to_bytes(32, "big") + y.to_bytes(32, "big"))[12:]


def recover(digest: bytes, signature: bytes):
    """The 20-byte address that signed the 32-byte `digest`, or None when the signature is refused
    (§3.3: not 65 bytes, recid not 0/1, r or s out of [1, n-1], no point, no key)."""
    if len(digest) != 32 or len(signature) != 65:
        return None
    r = int.from_bytes(signature[0:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    recid = signature[64]
    if recid > 1 or not (1 <= r < N) or not (1 <= s < N):
        return None
    alpha = (pow(r, 3, _P) + 7) % _P
    beta = pow(alpha, (_P + 1) // 4, _P)
    if (beta * beta) % _P != alpha:
        return None
    y = beta if beta % 2 == recid else _P - beta
    R = PointJacobi.from_affine(Point(_CURVE, r, y, N))
    e = int.from_bytes(digest, "big")
    rinv = pow(r, -1, N)
    Q = R * ((s * rinv) % N) + _G * ((-e * rinv) % N)
    if Q == INFINITY:
        return None
    Q = Q.to_affine()
    return address_of_public_key(Q.x(), Q.y())


def to_hex(b: bytes) -> str:
    return "0x" + bytes(b).hex()


def from_hex(s: str) -> bytes:
    if not isinstance(s, str) or not s.startswith("0x"):
        raise ValueError(f"not 0x-prefixed hex: {s!r}")
    body = s[2:]
    if len(body) % 2:
        body = "0" + body
    return bytes.fromhex(body)
