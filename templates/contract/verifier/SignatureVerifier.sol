// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title SignatureVerifier
/// @notice Checks ECDSA (secp256k1) signatures over a 32-byte message hash signed the way wallets
/// sign messages (EIP-191: "\x19Ethereum Signed Message:\n32" ‖ hash), as `personal_sign` and
/// viem's `signMessage({message: {raw: hash}})` do. Signatures are 65 bytes r ‖ s ‖ v; a
/// signature with s in the upper half of the curve order (the malleable twin of a valid one) is
/// rejected, as are v values other than 27/28 (or 0/1).
contract SignatureVerifier {
    /// @dev secp256k1's curve order n, divided by two.
    uint256 private constant HALF_CURVE_ORDER = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0;

    error InvalidSignatureLength(uint256 length);
    error InvalidSignatureV(uint8 v);
    error MalleableSignature(bytes32 s);
    error InvalidSignature();

    /// @notice The EIP-191 digest a wallet signs for the 32-byte `messageHash`.
    function toEthSignedMessageHash(bytes32 messageHash) public pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19Ethereum Signed Message:\n32", messageHash));
    }

    /// @notice The signer of `signature` over `messageHash`; reverts on a malformed or malleable signature.
    function recover(bytes32 messageHash, bytes calldata signature) public pure returns (address) {
        if (signature.length != 65) revert InvalidSignatureLength(signature.length);
        bytes32 r = bytes32(signature[0:32]);
        bytes32 s = bytes32(signature[32:64]);
        uint8 v = uint8(signature[64]);
        if (v < 27) v += 27;
        if (v != 27 && v != 28) revert InvalidSignatureV(v);
        if (uint256(s) > HALF_CURVE_ORDER) revert MalleableSignature(s);
        address signer = ecrecover(toEthSignedMessageHash(messageHash), v, r, s);
        if (signer == address(0)) revert InvalidSignature();
        return signer;
    }

    /// @notice True when `signature` over `messageHash` is by `signer`.
    function verify(address signer, bytes32 messageHash, bytes calldata signature) external pure returns (bool) {
        return recover(messageHash, signature) == signer;
    }
}
