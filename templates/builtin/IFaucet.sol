// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The faucet native module's interface.
/// @notice The module lives at the system address 0x00000000000000000000000000000a112d0594bd and
/// pays `amount` wei per claim out of its own balance, at most once per `cooldownBlocks` blocks per
/// recipient (a recipient that claimed in block h may claim again from block h + cooldownBlocks).
/// A claim within the cooldown, a claim the faucet cannot pay and a claim carrying value are
/// rejected before they run.
interface IFaucet {
    /// @notice Emitted for each paid claim; `nextClaimAt` is the first block `to` may claim again.
    event Claimed(address indexed to, uint256 amount, uint256 nextClaimAt);

    /// @notice Pays the faucet amount to the sender; returns the amount.
    function claim() external returns (uint256);

    /// @notice Pays the faucet amount to `to` (the cooldown is `to`'s); returns the amount.
    function claimFor(address to) external returns (uint256);

    /// @notice The first block at which `who` may claim again; 0 if it never claimed.
    function nextClaimAt(address who) external view returns (uint256);
}
