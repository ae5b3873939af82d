// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Counter
/// @notice A number anyone can count up or down.
contract Counter {
    uint256 public count;

    event CountChanged(uint256 newCount);

    /// @notice decrement() was called at zero.
    error CountIsZero();

    function increment() external {
        count += 1;
        emit CountChanged(count);
    }

    function decrement() external {
        if (count == 0) revert CountIsZero();
        count -= 1;
        emit CountChanged(count);
    }

    function set(uint256 newCount) external {
        count = newCount;
        emit CountChanged(newCount);
    }
}
