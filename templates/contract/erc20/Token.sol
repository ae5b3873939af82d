// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {ERC20} from "./xai/ERC20.sol";
import {Ownable} from "./xai/Ownable.sol";

/// @title Token
/// @notice An ERC-20 whose owner (the deployer) may mint; any holder may burn their own tokens.
contract Token is ERC20, Ownable {
    constructor(string memory name_, string memory symbol_, uint256 initialSupply) ERC20(name_, symbol_) Ownable(msg.sender) {
        _mint(msg.sender, initialSupply);
    }

    function mint(address to, uint256 value) external onlyOwner {
        _mint(to, value);
    }

    function burn(uint256 value) external {
        _burn(msg.sender, value);
    }
}
