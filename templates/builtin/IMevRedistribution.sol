// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The mev-redistribution native module's interface.
/// @notice The module lives at the system address 0x00000000000000000000000000000a1134434a1f. At
/// the end of every block it pays each of the block's senders floor(fee * shareBps / 10000) wei
/// out of the block proposer's balance, where `fee` is the priority fees the sender paid in the
/// block; the rounding remainder stays with the proposer.
interface IMevRedistribution {
    /// @notice Emitted for each payment made at the end of block `height`.
    event Redistributed(uint256 indexed height, address indexed to, uint256 amount);

    /// @notice Wei paid back to senders since the module was activated.
    function redistributedTotal() external view returns (uint256);
}
