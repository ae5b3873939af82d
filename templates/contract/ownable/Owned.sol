// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {Ownable} from "./xai/Ownable.sol";

/// @title Owned
/// @notice Keeps a message that only the owner (the deployer, until ownership moves) may change.
contract Owned is Ownable {
    string public message;

    event MessageChanged(string newMessage);

    constructor(string memory initialMessage) Ownable(msg.sender) {
        message = initialMessage;
    }

    function setMessage(string calldata newMessage) external onlyOwner {
        message = newMessage;
        emit MessageChanged(newMessage);
    }
}
