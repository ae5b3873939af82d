// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The treasury native module's interface.
/// @notice The module lives at the system address 0x00000000000000000000000000000a115e77c990.
/// At the end of every block it receives baseFeeShareBps / 10000 of the base fees burnt in the
/// block (minted, rounded down). It pays out only through spend(), which only the governance
/// module (0x00000000000000000000000000000a116609a5b1) may call when it executes a passed
/// treasury-spend proposal. Calls carrying value are rejected.
interface ITreasury {
    /// @notice Emitted at the end of a block in which the treasury received its share of the fees.
    event FeesReceived(uint256 height, uint256 amount);

    /// @notice Emitted when the treasury pays `amount` wei to `to` for proposal `proposalId`.
    event Spent(address indexed to, uint256 amount, uint256 proposalId);

    /// @notice The treasury's balance, in wei.
    function balance() external view returns (uint256);

    /// @notice Pays `amount` wei to `to` for proposal `proposalId`; governance only, once per proposal.
    function spend(address to, uint256 amount, uint256 proposalId) external;

    /// @notice Wei the treasury has received from fees since it was activated.
    function totalReceived() external view returns (uint256);

    /// @notice Wei the treasury has paid out since it was activated.
    function totalSpent() external view returns (uint256);
}
