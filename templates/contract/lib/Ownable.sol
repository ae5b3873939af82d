// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title Ownable
/// @notice A single owner who alone may call the functions marked `onlyOwner`, and who may hand
/// the role over or give it up.
abstract contract Ownable {
    address private _owner;

    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    /// @notice `caller` is not the owner.
    error NotOwner(address caller);
    /// @notice `account` cannot be the owner (the zero address; use renounceOwnership instead).
    error InvalidOwner(address account);

    constructor(address initialOwner) {
        if (initialOwner == address(0)) revert InvalidOwner(initialOwner);
        _transferOwnership(initialOwner);
    }

    modifier onlyOwner() {
        if (msg.sender != _owner) revert NotOwner(msg.sender);
        _;
    }

    function owner() public view returns (address) {
        return _owner;
    }

    function transferOwnership(address newOwner) public virtual onlyOwner {
        if (newOwner == address(0)) revert InvalidOwner(newOwner);
        _transferOwnership(newOwner);
    }

    /// @notice Leaves the contract without an owner: `onlyOwner` functions can never be called again.
    function renounceOwnership() public virtual onlyOwner {
        _transferOwnership(address(0));
    }

    function _transferOwnership(address newOwner) internal virtual {
        address previousOwner = _owner;
        _owner = newOwner;
        emit OwnershipTransferred(previousOwner, newOwner);
    }
}
