// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title The __name__ native module's interface.
/// @notice The module lives at the system address __ADDRESS__ (derived from its id); contracts
/// and viem call it like any contract. Calls carrying value are rejected.
interface I__Name__ {
    /// @notice Emitted by increment(): `by` is the module's `step` parameter, `value` the new value.
    event Incremented(uint256 by, uint256 value);

    /// @notice Adds the `step` parameter to the counter and returns the new value.
    function increment() external returns (uint256);

    /// @notice The counter's current value.
    function value() external view returns (uint256);
}
