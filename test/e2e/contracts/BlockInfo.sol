// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// Reads the block context the EVM sees, so tests can compare it with the block header the
/// node returns over JSON-RPC.
contract BlockInfo {
    event Recorded(
        uint256 number,
        uint256 timestamp,
        uint256 basefee,
        uint256 chainId,
        bytes32 previousBlockHash,
        uint256 gasLimit,
        address coinbase
    );

    uint256 public recordedNumber;
    bytes32 public recordedPreviousHash;

    /// Emits what the executing block looks like from inside the EVM and stores part of it.
    function record() external {
        bytes32 previous = blockhash(block.number - 1);
        recordedNumber = block.number;
        recordedPreviousHash = previous;
        emit Recorded(block.number, block.timestamp, block.basefee, block.chainid, previous, block.gaslimit, block.coinbase);
    }

    function chainId() external view returns (uint256) {
        return block.chainid;
    }

    function number() external view returns (uint256) {
        return block.number;
    }

    /// BLOCKHASH of an arbitrary height (zero outside the last 256 blocks and for the current one).
    function hashOf(uint256 height) external view returns (bytes32) {
        return blockhash(height);
    }
}
