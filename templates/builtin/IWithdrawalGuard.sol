// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The withdrawal-guard native module's interface.
/// @notice The module lives at the system address 0x00000000000000000000000000000a11d2982999. It
/// limits the value each account sends per window of `windowBlocks` blocks (transactions over the
/// limit are rejected before they run) and, by policy, rejects large transfers or makes them go
/// through queue(), which holds the wei for `delayBlocks` blocks.
interface IWithdrawalGuard {
    /// @notice Emitted when `from` queues `amount` wei for `to`, releasable from block `releaseAt`.
    event TransferQueued(uint256 indexed id, address indexed from, address indexed to, uint256 amount, uint256 releaseAt);

    /// @notice Emitted when queued transfer `id` is paid to its recipient.
    event TransferReleased(uint256 indexed id);

    /// @notice Emitted when queued transfer `id` is refunded to the account that queued it.
    event TransferCanceled(uint256 indexed id);

    /// @notice Emitted once per window when `account`'s outflow first reaches 80 % of `limit`.
    event OutflowNearLimit(address indexed account, uint256 used, uint256 limit);

    /// @notice Holds the wei sent with the call for `to` until `delayBlocks` blocks have passed.
    function queue(address to) external payable returns (uint256 id);

    /// @notice Pays queued transfer `id` to its recipient; anyone may call it from its release block.
    function release(uint256 id) external;

    /// @notice Refunds queued transfer `id`; only the account that queued it, before it is released.
    function cancel(uint256 id) external;

    /// @notice Wei `account` has sent in the current window, and the block the next window starts at.
    function outflow(address account) external view returns (uint256 used, uint256 windowEndsAt);

    /// @notice Queued transfer `id`; status 0 unknown, 1 queued, 2 released, 3 canceled.
    function queued(uint256 id) external view returns (address from, address to, uint256 amount, uint256 releaseAt, uint8 status);
}
